/// The kinds of load balancer that carry cache service operations.
enum ResourceKind: String, Sendable, CaseIterable {
  /// An HTTP load balancer with caching enabled.
  case httpLoadBalancer = "http_loadbalancer"
  /// A CDN load balancer.
  case cdnLoadBalancer = "cdn_loadbalancer"
}

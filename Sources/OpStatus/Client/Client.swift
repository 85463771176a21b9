import CJansson
import Glibc

/// A client for one F5 XC tenant. Safe to use from many threads at once.
final class Client: @unchecked Sendable {
  let configuration: Configuration
  let transport: HTTPTransport
  let logger = Logger()
  let sleeper = Sleeper()
  let rateLimiter: RateLimiter?

  init(configuration: Configuration) throws(OpStatusError) {
    if let caFile = configuration.caFile {
      try checkReadableFile(caFile, setting: "ca_file")
    }
    self.configuration = configuration
    rateLimiter = configuration.ratePerSecond.map {
      RateLimiter(ratePerSecond: $0, burst: configuration.burst)
    }
    transport = try HTTPTransport(
      settings: TransportSettings(
        endpoint: configuration.endpoint,
        credentials: configuration.credentials,
        caFile: configuration.caFile,
        connectTimeoutMilliseconds: configuration.connectTimeoutMilliseconds,
        maxResponseBytes: configuration.maxResponseBytes,
        userAgent: "opstatus/\(LibraryVersion.text)"))
  }

  /// Gets the status of an operation and returns the decoded response with
  /// its summary.
  func getStatus(_ request: StatusRequest, kind: ResourceKind? = nil)
    throws(OpStatusError) -> (status: ServiceOperationStatus, summary: StatusSummary)
  {
    let kind = kind ?? configuration.resourceKind
    let path =
      "/api/cdn/namespaces/\(percentEncodePathSegment(request.namespace))/"
      + "\(kind.rawValue)/get-service-operation-status"
    let body = try request.encodeBody()

    let status = try send(path: path, body: body, idempotent: true) {
      (response) throws(OpStatusError) -> ServiceOperationStatus in
      try decodeResponse(response, path: path) { (json) throws(JSONDecodingError) in
        try ServiceOperationStatus(json: json)
      }
    }

    try checkAPIError(status.error, path: path)
    let summary = StatusSummary(items: status.items ?? [], classifier: configuration.classifier)
    return (status, summary)
  }
}

/// Checks that a path names a file this process can read, so that a typo
/// shows up when the client is created instead of at the first request.
func checkReadableFile(_ path: String, setting: String) throws(OpStatusError) {
  guard let file = fopen(path, "rb") else {
    let reason = String(cString: strerror(errno))
    throw .configuration(
      "\(setting) \(quoteForMessage(path, maxLength: 200)) cannot be read: \(reason)")
  }
  fclose(file)
}

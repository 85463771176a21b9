import CJansson
import Glibc

/// A client for one F5 XC tenant. Safe to use from many threads at once.
final class Client: @unchecked Sendable {
  let configuration: Configuration
  let transport: HTTPTransport
  let logger: Logger
  let rateLimiter: RateLimiter?
  /// Removes the token and passwords from every message that leaves the
  /// client.
  let redactor: SecretRedactor

  /// The cancellation state of every call in progress, for `cancelAll`,
  /// and finished ones kept for reuse, which saves a mutex and a condition
  /// variable per call.
  private let callsLock = Lock()
  /// Few calls run at once, so a list is faster to search than a
  /// dictionary is to hash.
  private var activeCalls: [Sleeper] = []
  private var idleSleepers: [Sleeper] = []

  init(configuration: Configuration) throws(OpStatusError) {
    if let caFile = configuration.caFile {
      try checkReadableFile(caFile, setting: "ca_file")
    }
    self.configuration = configuration
    redactor = SecretRedactor(credentials: configuration.credentials)
    logger = Logger(redactor: redactor)
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

  /// Runs one public call with its own cancellation state, so that
  /// `cancelAll` can stop it while it sleeps or transfers.
  func withCall<T>(_ body: (Sleeper) throws(OpStatusError) -> T) throws(OpStatusError) -> T {
    let call = callsLock.withLock { () -> Sleeper in
      let call = idleSleepers.popLast() ?? Sleeper()
      activeCalls.append(call)
      return call
    }
    defer {
      callsLock.withLock {
        if let index = activeCalls.lastIndex(where: { $0 === call }) {
          activeCalls.swapAt(index, activeCalls.count - 1)
          activeCalls.removeLast()
        }
        call.reset()
        if idleSleepers.count < 64 { idleSleepers.append(call) }
      }
    }
    do {
      return try body(call)
    } catch {
      throw redactor.redact(error)
    }
  }

  /// Cancels every call in progress on this client. Calls that start
  /// afterwards are not affected.
  func cancelAll() {
    // Inside the lock, so that a call that has just finished cannot be
    // handed to a new call before it is cancelled.
    callsLock.withLock {
      for call in activeCalls {
        call.cancel()
      }
    }
  }

  /// The path of an operation of a load balancer kind in a namespace.
  func path(namespace: String, kind: ResourceKind?, _ suffix: String) -> String {
    let kind = kind ?? configuration.resourceKind
    return "/api/cdn/namespaces/\(percentEncodePathSegment(namespace))/\(kind.rawValue)/\(suffix)"
  }

  /// Gets the status of an operation: the checked response with its
  /// summary, by `classifier` or else the client's status words.
  func getStatus(
    _ request: StatusRequest, call: Sleeper, deadline: Int64? = nil,
    classifier: StatusClassifier? = nil
  ) throws(OpStatusError) -> StatusResult {
    let path = path(namespace: request.namespace, kind: request.kind, "get-service-operation-status")
    let body = try request.encodeBody()
    let classifier = classifier ?? configuration.classifier
    return try send(path: path, body: body, idempotent: true, call: call, deadline: deadline) {
      (response) throws(OpStatusError) -> StatusResult in
      try decodeStatusResponse(response, path: path, classifier: classifier)
    }
  }

  /// Starts a cache purge and returns the new operation's id. A purge is
  /// not idempotent, so it is sent again only when the server certainly did
  /// not act on it.
  func purge(_ request: PurgeRequest, call: Sleeper) throws(OpStatusError) -> PurgeResponse {
    let suffix = "\(percentEncodePathSegment(request.name))/cache-purge"
    let path = path(namespace: request.namespace, kind: request.kind, suffix)
    let body = try request.encodeBody()
    return try send(path: path, body: body, idempotent: false, call: call) {
      (response) throws(OpStatusError) -> PurgeResponse in
      try decodeResponse(response, path: path) { (json) throws(JSONDecodingError) in
        try PurgeResponse(json: json)
      }
    }
  }

  /// Lists recent operations of a load balancer.
  func list(_ request: ListRequest, call: Sleeper) throws(OpStatusError) -> ServiceOperationList {
    let path = path(namespace: request.namespace, kind: request.kind, "list-service-operations-status")
    let body = try request.encodeBody()
    let list = try send(path: path, body: body, idempotent: true, call: call) {
      (response) throws(OpStatusError) -> ServiceOperationList in
      try decodeResponse(response, path: path) { (json) throws(JSONDecodingError) in
        try ServiceOperationList(json: json)
      }
    }
    try checkAPIError(list.error, path: path)
    return list
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
  defer { fclose(file) }
  var info = stat()
  if fstat(fileno(file), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
    throw .configuration(
      "\(setting) \(quoteForMessage(path, maxLength: 200)) is a directory; give the path of a file")
  }
}

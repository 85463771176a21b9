import CCurl
import Glibc

/// curl_global_init is not thread-safe, so it runs once, guarded by the
/// thread-safe initialisation of Swift globals.
private let curlGlobalInitResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// Settings of the transport, taken from the configuration.
struct TransportSettings: Sendable {
  var endpoint: APIEndpoint
  var credentials: Credentials
  var caFile: String?
  var connectTimeoutMilliseconds: Int64
  var maxResponseBytes: Int64
  var userAgent: String
}

/// A response as the transport received it. Valid only inside the closure
/// that `HTTPTransport.post` passes it to, because the body is the easy
/// handle's buffer, reused by the next request.
struct HTTPResponse {
  let status: Int
  let sink: ResponseSink
  let elapsedMilliseconds: Int64
}

/// Sends POST requests with libcurl and keeps connections open between
/// calls.
///
/// Idle easy handles wait in a pool, each with its open connection in its
/// own multi handle, and a share handle lets every easy handle reuse DNS
/// results and TLS sessions. A thread checks a handle out for one request,
/// so handles are never used by two threads at once, as libcurl requires.
/// Calls on many operations check out a multi handle of their own, which
/// keeps its connections for the next such call.
///
/// Connections are not shared between handles. With a shared connection
/// cache, two threads took each other's connections and the cache's lock
/// several times per request. In one measurement, two threads sharing a
/// client then sent about 6% fewer requests per second.
///
/// After `fork()`, a child process that uses the client starts a new pool:
/// the parent's connections are left alone, neither used nor closed, since
/// closing them would send TLS alerts on sockets the parent still uses.
final class HTTPTransport: @unchecked Sendable {
  let settings: TransportSettings
  private let headers: UnsafeMutablePointer<curl_slist>
  private let poolLock = Lock()
  private var pool: ConnectionPool

  init(settings: TransportSettings) throws(OpStatusError) {
    guard curlGlobalInitResult == CURLE_OK else {
      throw OpStatusError(.internalError, "curl_global_init failed: \(curlText(curlGlobalInitResult))")
    }
    self.settings = settings

    var lines = ["Content-Type: application/json", "Accept: application/json", "Expect:"]
    if case .token(let token) = settings.credentials {
      lines.append("Authorization: APIToken \(token)")
    }
    var list: UnsafeMutablePointer<curl_slist>?
    for line in lines {
      guard let appended = curl_slist_append(list, line) else {
        curl_slist_free_all(list)
        throw OpStatusError(.outOfMemory, "could not build the request headers")
      }
      list = appended
    }
    guard let list else { throw OpStatusError(.outOfMemory, "could not build the request headers") }
    headers = list

    do {
      pool = try ConnectionPool()
    } catch {
      curl_slist_free_all(list)
      throw error
    }
  }

  deinit {
    // The pool goes first, since its easy handles still use the headers.
    pool.close()
    curl_slist_free_all(headers)
  }

  /// Sends a POST request and passes the response to `body`, while the
  /// handle is still checked out. `timeoutMilliseconds` bounds the whole
  /// transfer.
  func post<T>(
    path: String, body requestBody: [UInt8], timeoutMilliseconds: Int64,
    cancellation: Sleeper? = nil, _ handleResponse: (HTTPResponse) throws(OpStatusError) -> T
  ) throws(OpStatusError) -> T {
    let handle = try checkOut()
    defer { checkIn(handle) }

    let url = settings.endpoint.url(forPath: path)
    let started = monotonicMilliseconds()
    handle.sink.cancellation = cancellation
    let code = handle.perform(url: url, body: requestBody, timeoutMilliseconds: timeoutMilliseconds)
    let elapsed = monotonicMilliseconds() - started

    if code != CURLE_OK {
      throw failure(code, handle: handle, path: path, elapsed: elapsed)
    }
    var status = 0
    _ = opstatus_curl_getinfo_long(handle.curl, CURLINFO_RESPONSE_CODE, &status)
    return try handleResponse(HTTPResponse(status: status, sink: handle.sink, elapsedMilliseconds: elapsed))
  }

  /// Returns the error for a transfer that failed below HTTP.
  func failure(_ code: CURLcode, handle: EasyHandle, path: String, elapsed: Int64) -> OpStatusError {
    var error = describeFailure(code, handle: handle, path: path, elapsed: elapsed)
    error.transportFailure = classifyFailure(code, handle: handle)
    var status = 0
    _ = opstatus_curl_getinfo_long(handle.curl, CURLINFO_RESPONSE_CODE, &status)
    if status > 0 {
      error.httpStatus = status
    }
    return error
  }

  /// Takes an idle handle from the pool, or makes a new one.
  ///
  /// A thread gets back the handle it used last when that one is idle.
  /// Its buffers then stay in the memory of the thread and the CPU that
  /// used them, and two threads do not trade handles on every call.
  func checkOut() throws(OpStatusError) -> EasyHandle {
    let process = getpid()
    let thread = pthread_self()
    let (handle, current) = try poolLock.withLock { () throws(OpStatusError) in
      let current = try poolOfProcess(process)
      return (current.takeIdleHandle(preferring: thread), current)
    }
    if let handle {
      handle.lastThread = thread
      return handle
    }
    let created = try EasyHandle(settings: settings, headers: headers, pool: current)
    created.lastThread = thread
    return created
  }

  /// Takes an idle multi handle for a call on many operations, or makes a
  /// new one. It keeps up to `maxConnections` connections when the call
  /// ends.
  func checkOutMulti(maxConnections: Int) throws(OpStatusError) -> UnsafeMutableRawPointer {
    let process = getpid()
    let idle = try poolLock.withLock { () throws(OpStatusError) in
      try poolOfProcess(process).idleMultis.popLast()
    }
    guard let multi = idle ?? curl_multi_init() else {
      throw OpStatusError(.outOfMemory, "curl_multi_init failed")
    }
    _ = opstatus_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
    return multi
  }

  /// Returns a multi handle without transfers to the pool, or closes it and
  /// its connections when the pool is full. In a child process forked
  /// during the call, the handle is left alone, since its connections
  /// belong to the parent.
  func checkInMulti(_ multi: UnsafeMutableRawPointer, checkedOutBy owner: pid_t) {
    let process = getpid()
    guard owner == process else { return }
    let pooled = poolLock.withLock { () -> Bool in
      guard pool.idleMultis.count < ConnectionPool.maxIdleMultis else { return false }
      pool.idleMultis.append(multi)
      return true
    }
    if !pooled {
      curl_multi_cleanup(multi)
    }
  }

  /// Returns the pool of `process`, after replacing a pool that a parent
  /// process made before `fork()`. The caller holds `poolLock`.
  private func poolOfProcess(_ process: pid_t) throws(OpStatusError) -> ConnectionPool {
    if pool.ownerProcess != process {
      pool.abandon()
      pool = try ConnectionPool()
    }
    return pool
  }

  /// Returns a handle to the pool, keeping its connection open.
  func checkIn(_ handle: EasyHandle) {
    handle.sink.reset()
    handle.sink.cancellation = nil
    poolLock.withLock {
      guard handle.pool === pool, pool.idleHandles.count < ConnectionPool.maxIdleHandles else {
        if handle.pool.isAbandoned { handle.abandon() }
        return
      }
      pool.idleHandles.append(handle)
    }
  }

  /// Returns whether a failed transfer may be tried again, and whether the
  /// request certainly never reached the server.
  private func classifyFailure(_ code: CURLcode, handle: EasyHandle) -> TransportFailure? {
    if handle.sink.overflowed { return nil }
    switch code {
    case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY:
      return .notConnected
    case CURLE_OPERATION_TIMEDOUT:
      var connectTime: curl_off_t = 0
      _ = opstatus_curl_getinfo_offset(handle.curl, CURLINFO_CONNECT_TIME_T, &connectTime)
      return connectTime == 0 ? .notConnected : .interrupted
    case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
      CURLE_HTTP2, CURLE_HTTP2_STREAM:
      return .interrupted
    default:
      return nil
    }
  }

  private func describeFailure(_ code: CURLcode, handle: EasyHandle, path: String, elapsed: Int64)
    -> OpStatusError
  {
    let target = "POST \(settings.endpoint.origin)\(path)"
    if handle.sink.overflowed {
      return OpStatusError(
        .protocolError,
        "\(target): the response body is larger than max_response_bytes "
          + "(\(settings.maxResponseBytes) bytes); the transfer was stopped")
    }
    let detail = handle.errorText.isEmpty ? curlText(code) : handle.errorText
    switch code {
    case CURLE_ABORTED_BY_CALLBACK:
      return OpStatusError(.cancelled, "\(target) was cancelled after \(elapsed) ms")
    case CURLE_OPERATION_TIMEDOUT:
      return OpStatusError(
        .timeout, "\(target) timed out after \(elapsed) ms: \(detail)")
    case CURLE_SSL_CACERT_BADFILE:
      return OpStatusError(
        .configuration, "ca_file could not be loaded as PEM CA certificates: \(detail)")
    case CURLE_SSL_CERTPROBLEM:
      return OpStatusError(.configuration, certificateProblemMessage(detail))
    case CURLE_PEER_FAILED_VERIFICATION:
      return OpStatusError(
        .transport,
        "\(target): the server's TLS certificate was not accepted: \(detail); "
          + "check ca_file and the host name in api_url")
    default:
      return OpStatusError(.transport, "\(target) failed: \(detail)")
    }
  }
}

/// The idle easy handles of one process and the share handle they use.
final class ConnectionPool {
  /// Idle handles kept beyond this number are closed.
  static let maxIdleHandles = 16
  /// Idle multi handles kept beyond this number are closed.
  static let maxIdleMultis = 4

  let ownerProcess = getpid()
  let share: UnsafeMutableRawPointer
  private let shareLocks = ShareLocks()
  var idleHandles: [EasyHandle] = []
  /// Multi handles of finished calls on many operations, with their
  /// connections.
  var idleMultis: [UnsafeMutableRawPointer] = []
  private(set) var isAbandoned = false

  init() throws(OpStatusError) {
    guard let share = curl_share_init() else {
      throw OpStatusError(.outOfMemory, "curl_share_init failed")
    }
    self.share = share
    _ = opstatus_curl_share_setopt_lock(
      share, shareLockCallback, shareUnlockCallback,
      Unmanaged.passUnretained(shareLocks).toOpaque())
    for data in [CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION] {
      _ = opstatus_curl_share_setopt_long(share, CURLSHOPT_SHARE, Int(data.rawValue))
    }
  }

  /// Removes and returns the idle handle that `thread` used last, or else
  /// the one checked in most recently.
  func takeIdleHandle(preferring thread: pthread_t) -> EasyHandle? {
    if let index = idleHandles.lastIndex(where: { pthread_equal($0.lastThread, thread) != 0 }) {
      return idleHandles.remove(at: index)
    }
    return idleHandles.popLast()
  }

  /// Closes the idle connections and the share handle.
  func close() {
    guard !isAbandoned else { return }
    idleHandles.removeAll()
    for multi in idleMultis { curl_multi_cleanup(multi) }
    idleMultis.removeAll()
    curl_share_cleanup(share)
    isAbandoned = true
  }

  /// Forgets the pool without closing anything, in a child process whose
  /// sockets still belong to the parent. The memory stays allocated in the
  /// child; the share locks stay too, since libcurl may still point at them.
  func abandon() {
    isAbandoned = true
    for handle in idleHandles { handle.abandon() }
    idleHandles.removeAll()
    idleMultis.removeAll()
    _ = Unmanaged.passRetained(shareLocks)
  }
}

/// One libcurl easy handle with its response sink and error buffer.
final class EasyHandle {
  let curl: UnsafeMutableRawPointer
  let sink: ResponseSink
  let pool: ConnectionPool
  private let errorBuffer: UnsafeMutablePointer<CChar>
  private var abandoned = false
  /// The thread that checked the handle out last. Only the pool's lock or
  /// the thread holding the handle reads or writes it.
  var lastThread = pthread_t()
  /// The multi handle that runs this handle's single transfers, made on
  /// first use.
  private var multi: UnsafeMutableRawPointer?

  init(settings: TransportSettings, headers: UnsafeMutablePointer<curl_slist>, pool: ConnectionPool)
    throws(OpStatusError)
  {
    self.pool = pool
    let share = pool.share
    guard let curl = curl_easy_init() else {
      throw OpStatusError(.outOfMemory, "curl_easy_init failed")
    }
    self.curl = curl
    sink = ResponseSink(limit: Int(settings.maxResponseBytes))
    errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))

    var failed = CURLE_OK
    func check(_ result: CURLcode) {
      if result != CURLE_OK && failed == CURLE_OK { failed = result }
    }
    check(opstatus_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
    check(opstatus_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1))
    check(opstatus_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2))
    check(opstatus_curl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, 0))
    check(opstatus_curl_setopt_long(curl, CURLOPT_POST, 1))
    check(opstatus_curl_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1))
    check(opstatus_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeoutMilliseconds)))
    let protocols = settings.endpoint.usesTLS ? "https" : "http"
    check(opstatus_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, protocols))
    check(opstatus_curl_setopt_string(curl, CURLOPT_USERAGENT, settings.userAgent))
    check(opstatus_curl_setopt_string(curl, CURLOPT_ACCEPT_ENCODING, ""))
    if let caFile = settings.caFile {
      check(opstatus_curl_setopt_string(curl, CURLOPT_CAINFO, caFile))
    }
    switch settings.credentials {
    case .token:
      break
    case .p12(let file, let password):
      check(opstatus_curl_setopt_string(curl, CURLOPT_SSLCERTTYPE, "P12"))
      check(opstatus_curl_setopt_string(curl, CURLOPT_SSLCERT, file))
      check(opstatus_curl_setopt_string(curl, CURLOPT_KEYPASSWD, password))
    case .pem(let certificateFile, let keyFile, let keyPassword):
      check(opstatus_curl_setopt_string(curl, CURLOPT_SSLCERTTYPE, "PEM"))
      check(opstatus_curl_setopt_string(curl, CURLOPT_SSLCERT, certificateFile))
      check(opstatus_curl_setopt_string(curl, CURLOPT_SSLKEYTYPE, "PEM"))
      check(opstatus_curl_setopt_string(curl, CURLOPT_SSLKEY, keyFile))
      if let keyPassword {
        check(opstatus_curl_setopt_string(curl, CURLOPT_KEYPASSWD, keyPassword))
      }
    }
    check(opstatus_curl_setopt_pointer(curl, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers)))
    check(opstatus_curl_setopt_pointer(curl, CURLOPT_SHARE, share))
    check(opstatus_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)))
    let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
    check(opstatus_curl_setopt_write(curl, CURLOPT_WRITEFUNCTION, responseBodyCallback))
    check(opstatus_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, sinkPointer))
    check(opstatus_curl_setopt_write(curl, CURLOPT_HEADERFUNCTION, responseHeaderCallback))
    check(opstatus_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, sinkPointer))
    check(opstatus_curl_setopt_xferinfo(curl, transferProgressCallback))
    check(opstatus_curl_setopt_pointer(curl, CURLOPT_XFERINFODATA, sinkPointer))
    check(opstatus_curl_setopt_long(curl, CURLOPT_NOPROGRESS, 0))

    if failed != CURLE_OK {
      // Every stored property is set, so deinit runs and frees the handle
      // and the buffer; freeing them here too would free them twice.
      throw OpStatusError(.internalError, "could not set up libcurl: \(curlText(failed))")
    }
  }

  deinit {
    if abandoned { return }
    curl_easy_cleanup(curl)
    if let multi {
      curl_multi_cleanup(multi)
    }
    errorBuffer.deallocate()
  }

  /// Leaves the handle and its connection untouched when this object goes
  /// away; see `ConnectionPool.abandon`.
  func abandon() {
    abandoned = true
  }

  var errorText: String {
    String(cString: errorBuffer)
  }

  /// Runs one request. The body must stay alive until perform returns,
  /// which the closure guarantees.
  func perform(url: String, body: [UInt8], timeoutMilliseconds: Int64) -> CURLcode {
    let result = prepare(url: url, body: body, timeoutMilliseconds: timeoutMilliseconds)
    guard result == CURLE_OK else { return result }
    return performCancellably()
  }

  /// Runs the transfer in this handle's own multi handle, waking at least
  /// every 100 ms to check for cancellation. curl_easy_perform works the
  /// same way inside, but its progress callback, the only place to stop
  /// it, may go a second without a call while the server sends nothing.
  private func performCancellably() -> CURLcode {
    if multi == nil {
      multi = curl_multi_init()
    }
    guard let multi else { return curl_easy_perform(curl) }
    guard curl_multi_add_handle(multi, curl) == CURLM_OK else { return CURLE_FAILED_INIT }
    defer { curl_multi_remove_handle(multi, curl) }

    while true {
      var running: Int32 = 0
      guard curl_multi_perform(multi, &running) == CURLM_OK else { return CURLE_FAILED_INIT }
      var left: Int32 = 0
      while let message = curl_multi_info_read(multi, &left) {
        if message.pointee.msg == CURLMSG_DONE {
          return message.pointee.data.result
        }
      }
      if running == 0 {
        return CURLE_FAILED_INIT
      }
      if sink.cancellation?.isCancelled == true {
        return CURLE_ABORTED_BY_CALLBACK
      }
      var ready: Int32 = 0
      _ = curl_multi_poll(multi, nil, 0, 100, &ready)
    }
  }

  /// Sets up the next request. libcurl copies the body, so the handle can
  /// also run in a multi handle after the caller's array is gone.
  func prepare(url: String, body: [UInt8], timeoutMilliseconds: Int64) -> CURLcode {
    errorBuffer[0] = 0
    sink.reset()
    var result = opstatus_curl_setopt_string(curl, CURLOPT_URL, url)
    guard result == CURLE_OK else { return result }
    result = opstatus_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, Int(max(timeoutMilliseconds, 1)))
    guard result == CURLE_OK else { return result }
    result = opstatus_curl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, body.count)
    guard result == CURLE_OK else { return result }
    return body.withUnsafeBufferPointer { bytes in
      // An empty array may have no storage; "" gives libcurl a valid pointer.
      guard let base = bytes.baseAddress else {
        return opstatus_curl_setopt_string(curl, CURLOPT_COPYPOSTFIELDS, "")
      }
      return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
        opstatus_curl_setopt_string(curl, CURLOPT_COPYPOSTFIELDS, $0)
      }
    }
  }
}

/// Mutexes for libcurl's share handle, one per kind of shared data.
final class ShareLocks {
  let locks: [Lock] = (0..<Int(CURL_LOCK_DATA_LAST.rawValue)).map { _ in Lock() }
}

private let shareLockCallback: curl_lock_function = { _, data, _, userdata in
  guard let userdata else { return }
  let locks = Unmanaged<ShareLocks>.fromOpaque(userdata).takeUnretainedValue()
  let index = Int(data.rawValue)
  if index < locks.locks.count { locks.locks[index].lock() }
}

private let shareUnlockCallback: curl_unlock_function = { _, data, userdata in
  guard let userdata else { return }
  let locks = Unmanaged<ShareLocks>.fromOpaque(userdata).takeUnretainedValue()
  let index = Int(data.rawValue)
  if index < locks.locks.count { locks.locks[index].unlock() }
}

extension HTTPTransport {
  /// Names the client certificate settings involved in a failure to load
  /// them; libcurl's text never contains the password.
  func certificateProblemMessage(_ detail: String) -> String {
    switch settings.credentials {
    case .p12:
      return "p12_file could not be used as a client certificate; check that it is a PKCS#12 "
        + "bundle and that p12_password is right: \(detail)"
    case .pem:
      return "cert_file and key_file could not be used as a client certificate; check that "
        + "they are PEM files that belong together, and key_password if the key is "
        + "encrypted: \(detail)"
    case .token:
      return "the client certificate could not be loaded: \(detail)"
    }
  }
}

/// Kind of transfer failure, for the retry rules.
enum TransportFailure: Sendable {
  /// No connection was made, so the server cannot have acted on the
  /// request.
  case notConnected
  /// The connection broke or timed out after it was made; the server may
  /// have received the request.
  case interrupted
}

func curlText(_ code: CURLcode) -> String {
  String(cString: curl_easy_strerror(code))
}

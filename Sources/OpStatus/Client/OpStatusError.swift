/// The kinds of failure, one per `opstatus_result` value of the C header.
enum ResultCode: Int32, Sendable, CaseIterable {
  case ok = 0
  case invalidArgument = 1
  case configuration = 2
  case transport = 3
  case timeout = 4
  case unauthorized = 5
  case forbidden = 6
  case notFound = 7
  case conflict = 8
  case rateLimited = 9
  case serverError = 10
  case unavailable = 11
  case gatewayTimeout = 12
  case protocolError = 13
  case apiError = 14
  case cancelled = 15
  case badRequest = 16
  case outOfMemory = 17
  case internalError = 18

  /// The name of the matching C enumerator, such as `OPSTATUS_ENOTFOUND`.
  var cName: String {
    switch self {
    case .ok: return "OPSTATUS_OK"
    case .invalidArgument: return "OPSTATUS_EINVAL"
    case .configuration: return "OPSTATUS_ECONFIG"
    case .transport: return "OPSTATUS_ETRANSPORT"
    case .timeout: return "OPSTATUS_ETIMEOUT"
    case .unauthorized: return "OPSTATUS_EUNAUTHORIZED"
    case .forbidden: return "OPSTATUS_EFORBIDDEN"
    case .notFound: return "OPSTATUS_ENOTFOUND"
    case .conflict: return "OPSTATUS_ECONFLICT"
    case .rateLimited: return "OPSTATUS_ERATELIMITED"
    case .serverError: return "OPSTATUS_ESERVER"
    case .unavailable: return "OPSTATUS_EUNAVAILABLE"
    case .gatewayTimeout: return "OPSTATUS_EGATEWAYTIMEOUT"
    case .protocolError: return "OPSTATUS_EPROTOCOL"
    case .apiError: return "OPSTATUS_EAPI"
    case .cancelled: return "OPSTATUS_ECANCELLED"
    case .badRequest: return "OPSTATUS_EBADREQUEST"
    case .outOfMemory: return "OPSTATUS_ENOMEM"
    case .internalError: return "OPSTATUS_EINTERNAL"
    }
  }

  /// A static one-line description, returned by `opstatus_strerror`.
  var summary: StaticString {
    switch self {
    case .ok: return "success"
    case .invalidArgument: return "invalid argument"
    case .configuration: return "invalid configuration"
    case .transport: return "network or TLS failure"
    case .timeout: return "timed out"
    case .unauthorized: return "unauthorized (HTTP 401)"
    case .forbidden: return "forbidden (HTTP 403)"
    case .notFound: return "not found (HTTP 404)"
    case .conflict: return "conflict (HTTP 409)"
    case .rateLimited: return "rate limited (HTTP 429)"
    case .serverError: return "server error (HTTP 5xx)"
    case .unavailable: return "service unavailable (HTTP 503)"
    case .gatewayTimeout: return "gateway timeout (HTTP 504)"
    case .protocolError: return "invalid response from the server"
    case .apiError: return "the API returned an error"
    case .cancelled: return "cancelled"
    case .badRequest: return "request rejected by the server (HTTP 4xx)"
    case .outOfMemory: return "out of memory"
    case .internalError: return "internal error"
    }
  }

  /// Returns the result code for an HTTP status outside 2xx.
  static func forHTTPStatus(_ status: Int) -> ResultCode {
    switch status {
    case 401: return .unauthorized
    case 403: return .forbidden
    case 404: return .notFound
    case 409: return .conflict
    case 429: return .rateLimited
    case 503: return .unavailable
    case 504: return .gatewayTimeout
    case 300..<400: return .protocolError
    case 400..<500: return .badRequest
    case 500..<600: return .serverError
    default: return .protocolError
    }
  }
}

/// A failure with the detail that `opstatus_last_error` reports.
///
/// The message names the value that failed. It never contains the API
/// token, a password or key material.
struct OpStatusError: Error, Sendable, CustomStringConvertible {
  var code: ResultCode
  var message: String
  /// HTTP status of the response, or nil when none was received.
  var httpStatus: Int?
  /// The `error.code` of an F5 XC response, such as `EPERMS`.
  var apiCode: String?
  /// The delay that the server requested with `Retry-After`, in milliseconds.
  var retryAfterMilliseconds: Int64?
  /// Kind of transfer failure, when the request failed below HTTP.
  var transportFailure: TransportFailure?

  init(
    _ code: ResultCode, _ message: String, httpStatus: Int? = nil, apiCode: String? = nil,
    retryAfterMilliseconds: Int64? = nil
  ) {
    self.code = code
    self.message = message
    self.httpStatus = httpStatus
    self.apiCode = apiCode
    self.retryAfterMilliseconds = retryAfterMilliseconds
  }

  var description: String { "\(code.summary): \(message)" }

  static func invalidArgument(_ message: String) -> OpStatusError {
    OpStatusError(.invalidArgument, message)
  }

  static func configuration(_ message: String) -> OpStatusError {
    OpStatusError(.configuration, message)
  }
}

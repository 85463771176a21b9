import COpStatusABI
import CJansson
import Glibc

// The functions of include/opstatus.h. Each one converts between C and
// Swift types and reports errors; the work happens in the Swift types.

@c(opstatus_version)
public func opstatusVersion() -> UnsafePointer<CChar> {
  versionCString
}

nonisolated(unsafe) private let versionCString: UnsafePointer<CChar> = UnsafePointer(strdup(LibraryVersion.text)!)

@c(opstatus_version_number)
public func opstatusVersionNumber() -> UInt32 {
  LibraryVersion.number
}

@c(opstatus_strerror)
public func opstatusStrerror(_ code: opstatus_result) -> UnsafePointer<CChar> {
  guard let known = ResultCode(rawValue: Int32(bitPattern: code.rawValue)) else {
    return unknownCodeText.utf8Start.withMemoryRebound(to: CChar.self, capacity: 1) { $0 }
  }
  let text = known.summary
  return text.utf8Start.withMemoryRebound(to: CChar.self, capacity: text.utf8CodeUnitCount) { $0 }
}

private let unknownCodeText: StaticString = "unknown result code"

@c(opstatus_last_error)
public func opstatusLastError() -> UnsafePointer<opstatus_error> {
  UnsafePointer(currentErrorRecord().record)
}

@c(opstatus_last_error_json)
public func opstatusLastErrorJSON() -> UnsafeMutablePointer<CChar>? {
  let record = currentErrorRecord()
  let error = record.swiftError
  var builder = JSONObjectBuilder()
  let code = error?.code ?? .ok
  builder.set("code", integer: Int64(code.rawValue))
  builder.set("name", string: code.cName)
  builder.set("message", string: error?.message ?? "")
  builder.set("http_status", error?.httpStatus.map { json_integer(json_int_t($0)) } ?? json_null())
  builder.set("api_code", error?.apiCode.map { makeJSONString($0) } ?? json_null())
  builder.set(
    "retry_after_ms",
    error?.retryAfterMilliseconds.map { json_integer(json_int_t($0)) } ?? json_null())
  guard let object = builder.finish() else { return nil }
  defer { json_decref(object) }
  return dumpJSON(object)
}

@c(opstatus_free)
public func opstatusFree(_ pointer: UnsafeMutableRawPointer?) {
  free(pointer)
}

@c(opstatus_client_new)
public func opstatusClientNew(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<opstatus_client>?>?, _ configJSON: UnsafePointer<CChar>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let configuration = try Configuration(jsonText: configJSON)
    let client = try Client(configuration: configuration)
    out.pointee = Unmanaged.passRetained(client).toOpaque().assumingMemoryBound(to: opstatus_client.self)
  }
}

@c(opstatus_client_free)
public func opstatusClientFree(_ client: UnsafeMutablePointer<opstatus_client>?) {
  guard let client else { return }
  Unmanaged<Client>.fromOpaque(UnsafeRawPointer(client)).release()
}

@c(opstatus_get_status_json)
public func opstatusGetStatusJSON(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ requestJSON: UnsafePointer<CChar>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    let document = try parseCallerJSON(requestJSON, field: "request_json")
    let request = try StatusRequest(json: document.root)
    out.pointee = try client.getStatusResult(request).checkedText()
  }
}

@c(opstatus_get_status_value)
public func opstatusGetStatusValue(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ request: UnsafePointer<json_t>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    guard let request else {
      throw .invalidArgument("request is NULL; pass a JSON object")
    }
    // jansson's getters take non-const pointers but do not modify.
    let parsed = try StatusRequest(json: UnsafeMutablePointer(mutating: request))
    out.pointee = try client.getStatusResult(parsed).checkedValue()
  }
}

@c(opstatus_get_status)
public func opstatusGetStatus(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ namespace: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?, _ serviceOperationID: Int64
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    let request = try StatusRequest(
      namespace: try stringFromCaller(namespace, field: "ns"),
      name: try stringFromCaller(name, field: "name"),
      serviceOperationID: serviceOperationID)
    out.pointee = try client.getStatusResult(request).checkedText()
  }
}

@c(opstatus_set_log_callback)
public func opstatusSetLogCallback(
  _ client: UnsafeMutablePointer<opstatus_client>?, _ level: opstatus_log_level,
  _ callback: opstatus_log_fn?, _ payload: UnsafeMutableRawPointer?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let client = try clientFromHandle(client)
    guard let parsed = LogLevel(rawValue: Int32(bitPattern: level.rawValue)) else {
      throw .invalidArgument(
        "level is \(level.rawValue); use OPSTATUS_LOG_DEBUG, _INFO, _WARNING or _ERROR")
    }
    client.logger.set(level: parsed, callback: callback, payload: payload)
  }
}

extension Client {
  /// Gets a status with its own call context.
  func getStatusResult(_ request: StatusRequest) throws(OpStatusError) -> StatusResult {
    try withCall { (call) throws(OpStatusError) in try getStatus(request, call: call) }
  }
}

extension StatusResult {
  /// Returns the result as a new jansson value, or throws ENOMEM.
  func checkedValue() throws(OpStatusError) -> JSONPointer {
    guard let result = value() else {
      throw OpStatusError(.outOfMemory, "could not build the result")
    }
    return result
  }

  /// Returns the result as JSON text from malloc, or throws ENOMEM.
  func checkedText() throws(OpStatusError) -> UnsafeMutablePointer<CChar> {
    guard let result = text() else {
      throw OpStatusError(.outOfMemory, "could not build the result")
    }
    return result
  }
}

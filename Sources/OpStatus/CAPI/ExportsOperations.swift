import COpStatusABI
import CJansson
import Glibc

// Purge, list, calls on many operations, waits and cancellation: the C
// functions convert arguments and results, and the Client does the work.

@c(opstatus_purge_json)
public func opstatusPurgeJSON(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ requestJSON: UnsafePointer<CChar>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    let document = try parseCallerJSON(requestJSON, field: "request_json")
    out.pointee = try dumpAndRelease(try client.purgeResult(try PurgeRequest(json: document.root)))
  }
}

@c(opstatus_purge_value)
public func opstatusPurgeValue(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ request: UnsafePointer<json_t>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    let request = try PurgeRequest(json: try callerValue(request))
    out.pointee = try client.purgeResult(request)
  }
}

@c(opstatus_list_json)
public func opstatusListJSON(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ requestJSON: UnsafePointer<CChar>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    let document = try parseCallerJSON(requestJSON, field: "request_json")
    out.pointee = try dumpAndRelease(try client.listResult(try ListRequest(json: document.root)))
  }
}

@c(opstatus_list_value)
public func opstatusListValue(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ request: UnsafePointer<json_t>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    out.pointee = try client.listResult(try ListRequest(json: try callerValue(request)))
  }
}

@c(opstatus_get_status_many_json)
public func opstatusGetStatusManyJSON(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ requestJSON: UnsafePointer<CChar>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    let document = try parseCallerJSON(requestJSON, field: "request_json")
    out.pointee = try dumpAndRelease(try client.statusManyResult(document.root))
  }
}

@c(opstatus_get_status_many_value)
public func opstatusGetStatusManyValue(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ request: UnsafePointer<json_t>?
) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let client = try clientFromHandle(client)
    out.pointee = try client.statusManyResult(try callerValue(request))
  }
}

@c(opstatus_wait_json)
public func opstatusWaitJSON(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ requestJSON: UnsafePointer<CChar>?, _ progress: opstatus_progress_fn?,
  _ payload: UnsafeMutableRawPointer?
) -> opstatus_result {
  runWait(out) { () throws(OpStatusError) -> WaitResult in
    let client = try clientFromHandle(client)
    let document = try parseCallerJSON(requestJSON, field: "request_json")
    return try client.waitForRequest(document.root, progress: textProgress(progress, payload))
  } convert: { result throws(OpStatusError) in
    try dumpAndRelease(result)
  }
}

@c(opstatus_wait_value)
public func opstatusWaitValue(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ request: UnsafePointer<json_t>?, _ progress: opstatus_progress_value_fn?,
  _ payload: UnsafeMutableRawPointer?
) -> opstatus_result {
  runWait(out) { () throws(OpStatusError) -> WaitResult in
    let client = try clientFromHandle(client)
    return try client.waitForRequest(try callerValue(request), progress: valueProgress(progress, payload))
  } convert: { result throws(OpStatusError) in
    result
  }
}

@c(opstatus_wait_many_json)
public func opstatusWaitManyJSON(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ requestJSON: UnsafePointer<CChar>?, _ progress: opstatus_progress_fn?,
  _ payload: UnsafeMutableRawPointer?
) -> opstatus_result {
  runWait(out) { () throws(OpStatusError) -> WaitResult in
    let client = try clientFromHandle(client)
    let document = try parseCallerJSON(requestJSON, field: "request_json")
    return try client.waitManyForRequest(document.root, progress: textProgress(progress, payload))
  } convert: { result throws(OpStatusError) in
    try dumpAndRelease(result)
  }
}

@c(opstatus_wait_many_value)
public func opstatusWaitManyValue(
  _ out: UnsafeMutablePointer<UnsafeMutablePointer<json_t>?>?, _ client: UnsafeMutablePointer<opstatus_client>?,
  _ request: UnsafePointer<json_t>?, _ progress: opstatus_progress_value_fn?,
  _ payload: UnsafeMutableRawPointer?
) -> opstatus_result {
  runWait(out) { () throws(OpStatusError) -> WaitResult in
    let client = try clientFromHandle(client)
    return try client.waitManyForRequest(
      try callerValue(request), progress: valueProgress(progress, payload))
  } convert: { result throws(OpStatusError) in
    result
  }
}

@c(opstatus_client_cancel)
public func opstatusClientCancel(_ client: UnsafeMutablePointer<opstatus_client>?) -> opstatus_result {
  runExported { () throws(OpStatusError) in
    try clientFromHandle(client).cancelAll()
  }
}

/// Returns a caller's jansson value as a mutable pointer, since jansson's
/// getters take one, although they do not modify the value.
func callerValue(_ value: UnsafePointer<json_t>?) throws(OpStatusError) -> JSONPointer {
  guard let value else {
    throw .invalidArgument("request is NULL; pass a JSON object")
  }
  return UnsafeMutablePointer(mutating: value)
}

/// Runs a wait and stores its result in `out`. A wait that timed out or
/// was cancelled still hands over the last result it had, with the timeout
/// or cancelled code, so the caller sees how far the operation got.
func runWait<T>(
  _ out: UnsafeMutablePointer<T?>?, _ body: () throws(OpStatusError) -> WaitResult,
  convert: (JSONPointer) throws(OpStatusError) -> T
) -> opstatus_result {
  var pending: OpStatusError?
  let code = runExported { () throws(OpStatusError) in
    let out = try prepareOut(out)
    let wait = try body()
    if let result = wait.result {
      out.pointee = try convert(result)
    }
    switch wait.outcome {
    case .timeout:
      pending = OpStatusError(.timeout, "the wait's deadline_ms passed before the operation finished")
    case .cancelled:
      pending = OpStatusError(.cancelled, "the wait was cancelled")
    default:
      break
    }
  }
  guard code == OPSTATUS_OK, let pending else { return code }
  currentErrorRecord().set(pending)
  return opstatus_result(rawValue: UInt32(pending.code.rawValue))
}

/// A progress callback that receives JSON text; nil when none was given.
func textProgress(_ callback: opstatus_progress_fn?, _ payload: UnsafeMutableRawPointer?)
  -> (JSONPointer) -> Bool
{
  guard let callback else { return { _ in true } }
  return { value in
    guard let text = dumpJSON(value) else { return true }
    defer { free(text) }
    return callback(text, payload) == 0
  }
}

/// A progress callback that receives the jansson value itself.
func valueProgress(_ callback: opstatus_progress_value_fn?, _ payload: UnsafeMutableRawPointer?)
  -> (JSONPointer) -> Bool
{
  guard let callback else { return { _ in true } }
  return { value in callback(value, payload) == 0 }
}

extension Client {
  func purgeResult(_ request: PurgeRequest) throws(OpStatusError) -> JSONPointer {
    let response = try withCall { (call) throws(OpStatusError) in try purge(request, call: call) }
    guard let result = response.encode() else {
      throw OpStatusError(.outOfMemory, "could not build the result")
    }
    return result
  }

  func listResult(_ request: ListRequest) throws(OpStatusError) -> JSONPointer {
    let list = try withCall { (call) throws(OpStatusError) in try self.list(request, call: call) }
    guard let result = list.encode() else {
      throw OpStatusError(.outOfMemory, "could not build the result")
    }
    return result
  }

  /// Reads `{"operations": [...], "max_connections": n}` plus any
  /// `extraKeys`. Entries that are not valid requests become errors of
  /// their own instead of failing the call.
  func readBatch(_ json: JSONPointer, extraKeys: [String] = [])
    throws(OpStatusError) -> (entries: [BatchEntry], maxConnections: Int, reader: JSONObjectReader)
  {
    let reader: JSONObjectReader
    let operations: JSONArray
    var maxConnections = configuration.maxConnections
    do throws(JSONDecodingError) {
      reader = try JSONObjectReader(json)
      try reader.rejectUnknownKeys(["operations", "max_connections"] + extraKeys)
      guard let array = try reader.array("operations") else {
        throw JSONDecodingError("missing; give an array of status requests", at: [.key("operations")])
      }
      operations = array
      if let value = try reader.nonNegativeInt64("max_connections") {
        guard (1...256).contains(value) else {
          throw JSONDecodingError("expected 1 to 256, found \(value)", at: [.key("max_connections")])
        }
        maxConnections = Int(value)
      }
    } catch {
      throw .invalidArgument("request \(error.pathText): \(error.problem)")
    }
    guard operations.count <= 100_000 else {
      throw .invalidArgument("request operations has \(operations.count) entries; the limit is 100000")
    }

    var entries: [BatchEntry] = []
    entries.reserveCapacity(operations.count)
    for (index, element) in operations {
      do {
        let request = try StatusRequest(json: element)
        entries.append(BatchEntry(request: request, requestJSON: element, error: nil))
      } catch {
        var failure = error
        failure.message = "operations[\(index)]: " + failure.message
        entries.append(BatchEntry(request: nil, requestJSON: element, error: failure))
      }
    }
    return (entries, maxConnections, reader)
  }

  /// `{"results": [{"request": …, "ok": true, "status": …} or
  /// {"request": …, "ok": false, "error": …}]}`, in the order of the
  /// request.
  func statusManyResult(_ json: JSONPointer) throws(OpStatusError) -> JSONPointer {
    let (entries, maxConnections, _) = try readBatch(json)
    let valid = entries.indices.filter { entries[$0].request != nil }
    let outcomes = try withCall { (call) throws(OpStatusError) in
      try getStatusMany(valid.compactMap { entries[$0].request }, maxConnections: maxConnections, call: call)
    }

    // Each entry takes a reference of its own, and this one is released
    // on every path, the failures included.
    var values: [JSONPointer?] = entries.map { $0.error.flatMap(errorJSON) }
    defer { for value in values { if let value { json_decref(value) } } }
    var succeeded = entries.map { _ in false }
    for (position, index) in valid.enumerated() {
      switch outcomes[position] {
      case .success(let status):
        values[index] = status.value()
        succeeded[index] = true
      case .failure(let error):
        values[index] = errorJSON(error)
      }
    }

    guard let results = json_array() else { throw OpStatusError(.outOfMemory, "could not build the result") }
    var failed = false
    for index in entries.indices {
      var entry = JSONObjectBuilder()
      entry.set("request", entries[index].requestJSON.flatMap { json_incref($0) })
      entry.set("ok", bool: succeeded[index])
      entry.set(succeeded[index] ? "status" : "error", values[index].flatMap { json_incref($0) })
      if let built = entry.finish(), json_array_append_new(results, built) == 0 { continue }
      failed = true
    }
    var root = JSONObjectBuilder()
    root.set("results", results)
    let result = root.finish()
    guard !failed, let result else {
      if let result { json_decref(result) }
      throw OpStatusError(.outOfMemory, "could not build the result")
    }
    return result
  }

  func waitForRequest(_ json: JSONPointer, progress: (JSONPointer) -> Bool) throws(OpStatusError)
    -> WaitResult
  {
    let request = try StatusRequest(json: json, allowing: WaitOptions.knownKeys)
    let reader: JSONObjectReader
    do {
      reader = try JSONObjectReader(json)
    } catch {
      throw .invalidArgument("request: \(error.problem)")
    }
    let options = try WaitOptions(reader: reader, defaults: configuration.classifier)
    return try withCall { (call) throws(OpStatusError) in
      try wait(request, options: options, call: call, progress: progress)
    }
  }

  func waitManyForRequest(_ json: JSONPointer, progress: (JSONPointer) -> Bool) throws(OpStatusError)
    -> WaitResult
  {
    let (entries, maxConnections, reader) = try readBatch(json, extraKeys: WaitOptions.knownKeys)
    let options = try WaitOptions(reader: reader, defaults: configuration.classifier)
    return try withCall { (call) throws(OpStatusError) in
      try waitMany(entries, options: options, maxConnections: maxConnections, call: call, progress: progress)
    }
  }
}

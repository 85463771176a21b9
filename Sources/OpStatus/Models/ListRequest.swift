import CJansson

/// Which operations a list request asks for: the spec's one-of group
/// `options`.
enum ListSelection: Sendable, Equatable {
  /// The most recent n operations.
  case lastN(Int64)
  /// Operations in a time range; each end is a unix timestamp or an RFC 3339
  /// time, sent as the caller wrote it.
  case timeRange(start: Timestamp, finish: Timestamp)
}

/// A list-service-operations-status request
/// (`common_cdnListServiceOperationsReq`).
struct ListRequest: Sendable, Equatable {
  var namespace: String
  /// The load balancer; the spec makes it optional.
  var name: String?
  var kind: ResourceKind?
  var selection: ListSelection

  init(namespace: String, name: String?, kind: ResourceKind? = nil, selection: ListSelection)
    throws(OpStatusError)
  {
    try validateIdentifier(namespace, field: "namespace")
    if let name { try validateIdentifier(name, field: "name") }
    switch selection {
    case .lastN(let count):
      guard count >= 1, count <= Int64(UInt32.max) else {
        throw .invalidArgument("lastn is \(count); use 1 to \(UInt32.max)")
      }
    case .timeRange(let start, let finish):
      guard start.millisecondsSinceEpoch <= finish.millisecondsSinceEpoch else {
        throw .invalidArgument(
          "time_range start_time \(quoteForMessage(start.text)) is after finish_time "
            + "\(quoteForMessage(finish.text))")
      }
    }
    self.namespace = namespace
    self.name = name
    self.kind = kind
    self.selection = selection
  }

  static let knownKeys = ["namespace", "name", "kind", "lastn", "time_range"]

  /// Reads a request that a caller gave as a JSON object, in the spec's
  /// shape plus an optional `kind`. Times in `time_range` may be numbers,
  /// which count as unix timestamps.
  init(json: JSONPointer) throws(OpStatusError) {
    let namespace: String?
    let name: String?
    let kind: ResourceKind?
    var selections: [ListSelection] = []
    do throws(JSONDecodingError) {
      let reader = try JSONObjectReader(json)
      try reader.rejectUnknownKeys(ListRequest.knownKeys)
      namespace = try reader.string("namespace")
      name = try reader.string("name")
      kind = try readResourceKind(reader)
      if let count = try reader.nonNegativeInt64("lastn") {
        selections.append(.lastN(count))
      }
      if let range = try reader.object("time_range") {
        do throws(JSONDecodingError) {
          try range.rejectUnknownKeys(["start_time", "finish_time"])
          let start = try readQueryTime(range, "start_time")
          let finish = try readQueryTime(range, "finish_time")
          selections.append(.timeRange(start: start, finish: finish))
        } catch {
          throw error.prefixed(.key("time_range"))
        }
      }
    } catch {
      throw .invalidArgument("request \(error.pathText): \(error.problem)")
    }

    guard let namespace else { throw .invalidArgument("request namespace is missing; it is required") }
    guard selections.count == 1, let selection = selections.first else {
      throw .invalidArgument(
        "request must set exactly one of lastn and time_range; \(selections.count) are set")
    }
    try self.init(namespace: namespace, name: name, kind: kind, selection: selection)
  }

  func encodeBody() throws(OpStatusError) -> [UInt8] {
    var builder = JSONObjectBuilder()
    builder.set("namespace", string: namespace)
    builder.set("name", string: name)
    switch selection {
    case .lastN(let count):
      builder.set("lastn", integer: count)
    case .timeRange(let start, let finish):
      var range = JSONObjectBuilder()
      range.set("start_time", string: start.text)
      range.set("finish_time", string: finish.text)
      builder.set("time_range", range.finish())
    }
    guard let object = builder.finish() else {
      throw OpStatusError(.outOfMemory, "could not build the request body")
    }
    defer { json_decref(object) }
    return try dumpToBytes(object)
  }
}

/// Reads a required time of a request: a string in either form, or a
/// non-negative number of seconds since the epoch. A number with a
/// fraction is sent as RFC 3339 with milliseconds.
func readQueryTime(_ reader: JSONObjectReader, _ key: StaticString) throws(JSONDecodingError)
  -> Timestamp
{
  guard let value = reader.value(key) else {
    throw JSONDecodingError("missing; it is required", at: [.key("\(key)")])
  }
  let text: String
  if value.isInteger && json_integer_value(value) >= 0 {
    text = String(json_integer_value(value))
  } else if value.isReal {
    guard let timestamp = Timestamp(unixSeconds: json_real_value(value)) else {
      throw JSONDecodingError(
        "expected a non-negative unix timestamp before the year 10000, found "
          + value.shortDescription, at: [.key("\(key)")])
    }
    return timestamp
  } else if value.isString {
    text = value.stringValue
  } else {
    throw JSONDecodingError(
      "expected a unix timestamp or an RFC 3339 time, found \(value.shortDescription)",
      at: [.key("\(key)")])
  }
  guard let timestamp = Timestamp(text) else {
    throw JSONDecodingError(
      "expected a unix timestamp or an RFC 3339 time such as 2019-09-23T12:32:11.733Z, "
        + "found \(quoteForMessage(text))", at: [.key("\(key)")])
  }
  return timestamp
}

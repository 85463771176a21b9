import CJansson
import Glibc

/// A status response checked where jansson parsed it, without copying it
/// into Swift values.
///
/// This is the path every status call takes. The walk applies the rules of
/// `ServiceOperationStatus(json:)`, with the same messages, and a test
/// checks that both agree. It also brings the tree into the shape of the
/// result: fields in a form other than the spec's (an id as a string, byte
/// counts as numbers, an error code as a number) are rewritten, fields that
/// are null, empty times and unknown fields are removed. When nothing had
/// to change, `isCanonical` is true, and the response text can be passed on
/// as it came, with the additions spliced in.
struct StatusExamination {
  var summary = StatusSummary()
  var isCanonical = true
  /// The `error` object's code and message, for the EOK and EPARTIAL rules.
  var apiError: APIErrorDetail?
}

private let topLevelKeys: [StaticString] = ["items", "error"]
private let itemKeys: [StaticString] = ["service_op_id", "status", "purge"]
private let purgeKeys: [StaticString] = [
  "site", "bytes_purged", "bytes_not_purged", "hard_purge", "regexp", "start_time",
  "finish_time", "purge_time",
]

/// Checks and normalises a parsed status response in place and computes
/// its summary with `classifier`.
func examineStatus(_ root: JSONPointer, classifier: StatusClassifier)
  throws(JSONDecodingError) -> StatusExamination
{
  var examination = StatusExamination()
  guard root.isObject else {
    throw JSONDecodingError("expected an object, found \(root.shortDescription)")
  }
  examination.isCanonical = removeNullAndUnknown(root, known: topLevelKeys) && examination.isCanonical

  var earliestStart: (JSONPointer, Int64)?
  var latestFinish: (JSONPointer, Int64)?
  if let items = json_object_get(root, "items") {
    guard items.isArray else {
      throw JSONDecodingError("expected an array, found \(items.shortDescription)", at: [.key("items")])
    }
    examination.summary.itemStates.reserveCapacity(json_array_size(items))
    for index in 0..<json_array_size(items) {
      guard let item = json_array_get(items, index) else { continue }
      do {
        try examineItem(
          item, classifier: classifier, examination: &examination, earliestStart: &earliestStart,
          latestFinish: &latestFinish)
      } catch {
        throw error.prefixed([.key("items"), .index(index)])
      }
    }
  } else {
    examination.isCanonical = false
    json_object_set_new(root, "items", json_array())
  }

  if let error = json_object_get(root, "error") {
    do {
      let reader = try JSONObjectReader(error)
      if !removeNullAndUnknown(error, known: ["code", "message", "error_obj"]) {
        examination.isCanonical = false
      }
      examination.apiError = try APIErrorDetail(reader: reader)
      if let code = reader.value("code"), !code.isString, let name = examination.apiError?.code {
        json_object_set_new(error, "code", makeJSONString(name))
        examination.isCanonical = false
      }
      if let detail = json_object_get(error, "error_obj"),
        !removeNullAndUnknown(detail, known: ["type_url", "value"])
      {
        examination.isCanonical = false
      }
    } catch {
      throw error.prefixed(.key("error"))
    }
  }

  examination.summary.earliestStart = earliestStart.map {
    Timestamp(text: $0.0.stringValue, millisecondsSinceEpoch: $0.1)
  }
  examination.summary.latestFinish = latestFinish.map {
    Timestamp(text: $0.0.stringValue, millisecondsSinceEpoch: $0.1)
  }
  examination.summary.finishState()
  return examination
}

private func examineItem(
  _ item: JSONPointer, classifier: StatusClassifier, examination: inout StatusExamination,
  earliestStart: inout (JSONPointer, Int64)?, latestFinish: inout (JSONPointer, Int64)?
) throws(JSONDecodingError) {
  guard item.isObject else {
    throw JSONDecodingError("expected an object, found \(item.shortDescription)")
  }
  if !removeNullAndUnknown(item, known: itemKeys) { examination.isCanonical = false }

  if let id = json_object_get(item, "service_op_id") {
    do {
      let value = try readNonNegativeInt64(id)
      if !id.isInteger {
        json_object_set_new(item, "service_op_id", json_integer(json_int_t(value)))
        examination.isCanonical = false
      }
    } catch {
      throw error.prefixed(.key("service_op_id"))
    }
  }

  var state = SiteState.pending
  if let status = json_object_get(item, "status") {
    guard status.isString else {
      throw JSONDecodingError(
        "expected a string, found \(status.shortDescription)", at: [.key("status")])
    }
    state = classifier.classify(bytes: status.stringBytes)
  }
  examination.summary.sites += 1
  switch state {
  case .succeeded: examination.summary.succeeded += 1
  case .failed: examination.summary.failed += 1
  case .pending: examination.summary.pending += 1
  }
  examination.summary.itemStates.append(state)

  guard let purge = json_object_get(item, "purge") else { return }
  do {
    try examinePurge(
      purge, examination: &examination, earliestStart: &earliestStart, latestFinish: &latestFinish)
  } catch {
    throw error.prefixed(.key("purge"))
  }
}

private func examinePurge(
  _ purge: JSONPointer, examination: inout StatusExamination,
  earliestStart: inout (JSONPointer, Int64)?, latestFinish: inout (JSONPointer, Int64)?
) throws(JSONDecodingError) {
  guard purge.isObject else {
    throw JSONDecodingError("expected an object, found \(purge.shortDescription)")
  }
  if !removeNullAndUnknown(purge, known: purgeKeys) { examination.isCanonical = false }

  for key: StaticString in ["site", "regexp"] {
    if let value = json_object_get(purge, key.cString), !value.isString {
      throw JSONDecodingError("expected a string, found \(value.shortDescription)", at: [.key("\(key)")])
    }
  }
  if let value = json_object_get(purge, "hard_purge"), !value.isBool {
    throw JSONDecodingError(
      "expected true or false, found \(value.shortDescription)", at: [.key("hard_purge")])
  }

  for key: StaticString in ["bytes_purged", "bytes_not_purged"] {
    guard let value = json_object_get(purge, key.cString) else { continue }
    let count: UInt64
    do {
      count = try readUInt64(value)
    } catch {
      throw error.prefixed(.key("\(key)"))
    }
    if !value.isString {
      json_object_set_new(purge, key.cString, makeJSONString(String(count)))
      examination.isCanonical = false
    }
    if key.utf8Start == ("bytes_purged" as StaticString).utf8Start {
      examination.summary.bytesPurged += UInt128(count)
    } else {
      examination.summary.bytesNotPurged += UInt128(count)
    }
  }

  for key: StaticString in ["start_time", "finish_time", "purge_time"] {
    guard let value = json_object_get(purge, key.cString) else { continue }
    guard value.isString else {
      throw JSONDecodingError("expected a string, found \(value.shortDescription)", at: [.key("\(key)")])
    }
    let bytes = value.stringBytes
    if bytes.isEmpty {
      // An empty time counts as absent, as protobuf gateways write unset
      // strings that way.
      json_object_del(purge, key.cString)
      examination.isCanonical = false
      continue
    }
    guard let milliseconds = parseTimestampMilliseconds(bytes) else {
      throw JSONDecodingError(
        "expected an RFC 3339 time or a unix timestamp, found \(quoteForMessage(value.stringValue))",
        at: [.key("\(key)")])
    }
    if key.utf8Start == ("start_time" as StaticString).utf8Start {
      if earliestStart.map({ milliseconds < $0.1 }) ?? true { earliestStart = (value, milliseconds) }
    } else if key.utf8Start == ("finish_time" as StaticString).utf8Start {
      if latestFinish.map({ milliseconds > $0.1 }) ?? true { latestFinish = (value, milliseconds) }
    }
  }
}

/// Removes members that are null or not in `known`; returns true when
/// there were none. Counting first avoids walking the keys of the usual
/// object, whose members are all known.
private func removeNullAndUnknown(_ object: JSONPointer, known: [StaticString]) -> Bool {
  var present = 0
  var sawNull = false
  for key in known {
    guard let value = json_object_get(object, key.cString) else { continue }
    present += 1
    if value.isNull { sawNull = true }
  }
  if present == json_object_size(object) && !sawNull { return true }

  var doomed: [String] = []
  var iterator = json_object_iter(object)
  while let current = iterator {
    if let key = json_object_iter_key(current) {
      let value = json_object_iter_value(current)
      let isKnown = known.contains { strcmp($0.cString, key) == 0 }
      if !isKnown || value?.isNull == true {
        doomed.append(String(cString: key))
      }
    }
    iterator = json_object_iter_next(object, current)
  }
  for key in doomed {
    json_object_del(object, key)
  }
  return false
}

extension StaticString {
  /// The string as a C string; a StaticString's storage is NUL-terminated.
  var cString: UnsafePointer<CChar> {
    UnsafeRawPointer(utf8Start).assumingMemoryBound(to: CChar.self)
  }
}

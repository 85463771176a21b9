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

  // One pass over the members, in place of a hash lookup per known key.
  var state = SiteState.pending
  var purge: JSONPointer?
  var doomed: [String] = []
  var iterator = json_object_iter(item)
  while let current = iterator {
    defer { iterator = json_object_iter_next(item, current) }
    guard let key = json_object_iter_key(current), let value = json_object_iter_value(current) else {
      continue
    }
    if value.isNull {
      doomed.append(String(cString: key))
    } else if strcmp(key, "status") == 0 {
      guard value.isString else {
        throw JSONDecodingError(
          "expected a string, found \(value.shortDescription)", at: [.key("status")])
      }
      state = classifier.classify(bytes: value.stringBytes)
    } else if strcmp(key, "service_op_id") == 0 {
      let id: Int64
      do {
        id = try readNonNegativeInt64(value)
      } catch {
        throw error.prefixed(.key("service_op_id"))
      }
      if !value.isInteger {
        json_object_iter_set_new(item, current, json_integer(json_int_t(id)))
        examination.isCanonical = false
      }
    } else if strcmp(key, "purge") == 0 {
      purge = value
    } else {
      doomed.append(String(cString: key))
    }
  }
  removeMembers(doomed, from: item, examination: &examination)

  examination.summary.sites += 1
  switch state {
  case .succeeded: examination.summary.succeeded += 1
  case .failed: examination.summary.failed += 1
  case .pending: examination.summary.pending += 1
  }
  examination.summary.itemStates.append(state)

  guard let purge else { return }
  do {
    try examinePurge(
      purge, examination: &examination, earliestStart: &earliestStart, latestFinish: &latestFinish)
  } catch {
    throw error.prefixed(.key("purge"))
  }
}

/// The members of a purge item, by kind of value.
private enum PurgeField {
  case string
  case bool
  case bytesPurged
  case bytesNotPurged
  case startTime
  case finishTime
  case purgeTime

  init?(key: UnsafePointer<CChar>) {
    switch key.pointee {
    case CChar(UInt8(ascii: "s")):
      if strcmp(key, "site") == 0 { self = .string; return }
      if strcmp(key, "start_time") == 0 { self = .startTime; return }
    case CChar(UInt8(ascii: "b")):
      if strcmp(key, "bytes_purged") == 0 { self = .bytesPurged; return }
      if strcmp(key, "bytes_not_purged") == 0 { self = .bytesNotPurged; return }
    case CChar(UInt8(ascii: "h")):
      if strcmp(key, "hard_purge") == 0 { self = .bool; return }
    case CChar(UInt8(ascii: "r")):
      if strcmp(key, "regexp") == 0 { self = .string; return }
    case CChar(UInt8(ascii: "f")):
      if strcmp(key, "finish_time") == 0 { self = .finishTime; return }
    case CChar(UInt8(ascii: "p")):
      if strcmp(key, "purge_time") == 0 { self = .purgeTime; return }
    default:
      break
    }
    return nil
  }
}

private func examinePurge(
  _ purge: JSONPointer, examination: inout StatusExamination,
  earliestStart: inout (JSONPointer, Int64)?, latestFinish: inout (JSONPointer, Int64)?
) throws(JSONDecodingError) {
  guard purge.isObject else {
    throw JSONDecodingError("expected an object, found \(purge.shortDescription)")
  }

  var doomed: [String] = []
  var iterator = json_object_iter(purge)
  while let current = iterator {
    defer { iterator = json_object_iter_next(purge, current) }
    guard let key = json_object_iter_key(current), let value = json_object_iter_value(current) else {
      continue
    }
    guard !value.isNull, let field = PurgeField(key: key) else {
      doomed.append(String(cString: key))
      continue
    }
    // The key as a Swift string, made only for an error or a removal.
    var keyText: String { String(cString: key) }

    switch field {
    case .string:
      guard value.isString else {
        throw JSONDecodingError("expected a string, found \(value.shortDescription)", at: [.key(keyText)])
      }
    case .bool:
      guard value.isBool else {
        throw JSONDecodingError(
          "expected true or false, found \(value.shortDescription)", at: [.key(keyText)])
      }
    case .bytesPurged, .bytesNotPurged:
      let count: UInt64
      do {
        count = try readUInt64(value)
      } catch {
        throw error.prefixed(.key(keyText))
      }
      if !value.isString {
        json_object_iter_set_new(purge, current, makeJSONString(String(count)))
        examination.isCanonical = false
      }
      if field == .bytesPurged {
        examination.summary.bytesPurged += UInt128(count)
      } else {
        examination.summary.bytesNotPurged += UInt128(count)
      }
    case .startTime, .finishTime, .purgeTime:
      guard value.isString else {
        throw JSONDecodingError("expected a string, found \(value.shortDescription)", at: [.key(keyText)])
      }
      let bytes = value.stringBytes
      if bytes.isEmpty {
        // An empty time counts as absent, as protobuf gateways write unset
        // strings that way.
        doomed.append(keyText)
        continue
      }
      guard let milliseconds = parseTimestampMilliseconds(bytes) else {
        throw JSONDecodingError(
          "expected an RFC 3339 time or a unix timestamp, found \(quoteForMessage(value.stringValue))",
          at: [.key(keyText)])
      }
      if field == .startTime, earliestStart.map({ milliseconds < $0.1 }) ?? true {
        earliestStart = (value, milliseconds)
      } else if field == .finishTime, latestFinish.map({ milliseconds > $0.1 }) ?? true {
        latestFinish = (value, milliseconds)
      }
    }
  }
  removeMembers(doomed, from: purge, examination: &examination)
}

/// Removes members found to be null, empty or unknown, which makes the
/// response non-canonical.
private func removeMembers(
  _ keys: [String], from object: JSONPointer, examination: inout StatusExamination
) {
  guard !keys.isEmpty else { return }
  for key in keys {
    json_object_del(object, key)
  }
  examination.isCanonical = false
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

import CJansson

/// Encoding of a status result: the response in the shape of the spec plus
/// the summary.
///
/// Byte counts are written as decimal strings, the spec's form, because
/// JSON readers in many languages lose precision above 2^53. Ids are
/// numbers. Fields the server left out stay out.
extension ServiceOperationStatus {
  func encodeResult(summary: StatusSummary) -> JSONPointer? {
    let itemsArray = json_array()
    if let itemsArray {
      for (index, item) in (items ?? []).enumerated() {
        let state = index < summary.itemStates.count ? summary.itemStates[index] : .pending
        guard let encoded = item.encode(state: state),
          json_array_append_new(itemsArray, encoded) == 0
        else {
          json_decref(itemsArray)
          return nil
        }
      }
    }
    var root = JSONObjectBuilder()
    root.set("items", itemsArray)

    if let error {
      root.set("error", error.encode())
    }
    root.set("summary", summary.encode())
    return root.finish()
  }
}

extension ServiceOperationItem {
  /// Encodes the item in the spec's shape plus `state`, the classification of its
  /// status word: `succeeded`, `failed` or `pending`.
  func encode(state: SiteState) -> JSONPointer? {
    var builder = JSONObjectBuilder()
    builder.set("service_op_id", integer: serviceOperationID)
    builder.set("status", string: status)
    builder.set("state", string: state.rawValue)
    if let purge {
      builder.set("purge", purge.encode())
    }
    return builder.finish()
  }
}

extension PurgeOperationItem {
  func encode() -> JSONPointer? {
    var builder = JSONObjectBuilder()
    builder.set("site", string: site)
    builder.set("bytes_purged", string: bytesPurged.map { String($0) })
    builder.set("bytes_not_purged", string: bytesNotPurged.map { String($0) })
    builder.set("hard_purge", bool: hardPurge)
    builder.set("regexp", string: regexp)
    builder.set("start_time", string: startTime?.text)
    builder.set("finish_time", string: finishTime?.text)
    builder.set("purge_time", string: purgeTime?.text)
    return builder.finish()
  }
}

extension APIErrorDetail {
  func encode() -> JSONPointer? {
    var builder = JSONObjectBuilder()
    builder.set("code", string: code)
    builder.set("message", string: message)
    if detailTypeURL != nil || detailValue != nil {
      var detail = JSONObjectBuilder()
      detail.set("type_url", string: detailTypeURL)
      detail.set("value", string: detailValue)
      builder.set("error_obj", detail.finish())
    }
    return builder.finish()
  }
}

extension StatusSummary {
  func encode() -> JSONPointer? {
    var builder = JSONObjectBuilder()
    builder.set("state", string: state.rawValue)
    builder.set("sites", integer: Int64(sites))
    builder.set("succeeded", integer: Int64(succeeded))
    builder.set("failed", integer: Int64(failed))
    builder.set("pending", integer: Int64(pending))
    builder.set("bytes_purged", string: String(bytesPurged))
    builder.set("bytes_not_purged", string: String(bytesNotPurged))
    builder.set("earliest_start", earliestStart.map { makeJSONString($0.text) } ?? json_null())
    builder.set("latest_finish", latestFinish.map { makeJSONString($0.text) } ?? json_null())
    return builder.finish()
  }
}

extension StatusSummary {
  /// Encodes the summary member as compact JSON text, the same as
  /// serialising `encode()` after the key `"summary":`.
  /// Times are validated timestamps, which hold no character that JSON
  /// escapes, so they are written as they are.
  func encodeBytes() -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(256)
    func literal(_ text: StaticString) {
      bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
    func number(_ value: some BinaryInteger) {
      appendDecimal(value, to: &bytes)
    }
    func time(_ timestamp: Timestamp?) {
      guard let timestamp else { return literal("null") }
      bytes.append(UInt8(ascii: "\""))
      bytes.append(contentsOf: timestamp.text.utf8)
      bytes.append(UInt8(ascii: "\""))
    }

    literal(#""summary":{"state":""#)
    bytes.append(contentsOf: state.rawValue.utf8)
    literal(#"","sites":"#)
    number(sites)
    literal(#","succeeded":"#)
    number(succeeded)
    literal(#","failed":"#)
    number(failed)
    literal(#","pending":"#)
    number(pending)
    literal(#","bytes_purged":""#)
    number(bytesPurged)
    literal(#"","bytes_not_purged":""#)
    number(bytesNotPurged)
    literal(#"","earliest_start":"#)
    time(earliestStart)
    literal(#","latest_finish":"#)
    time(latestFinish)
    literal("}")
    return bytes
  }
}

/// Appends the decimal text of an integer to `bytes`. A value that fits in
/// UInt64 is written digit by digit, without building a string first.
func appendDecimal(_ value: some BinaryInteger, to bytes: inout [UInt8]) {
  guard let small = UInt64(exactly: value) else {
    bytes.append(contentsOf: String(value).utf8)
    return
  }
  var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
  var count = 0
  var rest = small
  withUnsafeMutableBytes(of: &digits) { buffer in
    repeat {
      buffer[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
      rest /= 10
      count += 1
    } while rest > 0
    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
  }
}

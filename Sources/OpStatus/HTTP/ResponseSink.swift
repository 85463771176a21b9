import CCurl

/// Collects one response: body bytes up to a limit and the few headers the
/// client reads. One sink belongs to one easy handle and is reset before
/// every request.
final class ResponseSink {
  var body: [UInt8] = []
  let limit: Int
  /// Set when the body passed `limit`; the transfer was then aborted.
  var overflowed = false
  /// The Content-Type when it is text/html, for the message that the
  /// response is a web page. Other types are not kept as strings.
  var htmlContentType: String?
  var location: String?
  var retryAfter: String?
  /// The call this transfer belongs to; the transfer stops when the call
  /// is cancelled.
  var cancellation: Sleeper?

  init(limit: Int) {
    self.limit = limit
  }

  func reset() {
    body.removeAll(keepingCapacity: body.capacity <= 1 << 20)
    overflowed = false
    htmlContentType = nil
    location = nil
    retryAfter = nil
  }

  /// Takes one header line; a status line starts a new response and clears
  /// what an earlier one (such as `100 Continue`) left. Header names are
  /// compared in place, without building strings for the many lines that
  /// do not matter.
  func takeHeaderLine(_ line: UnsafeRawBufferPointer) -> Bool {
    if line.starts(with: "HTTP/".utf8) {
      htmlContentType = nil
      location = nil
      retryAfter = nil
      return true
    }
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return true }
    let name = UnsafeRawBufferPointer(rebasing: line[..<colon])

    if headerName(name, equals: "content-length") {
      // Reject an announced body that is too large before it arrives.
      let value = UnsafeRawBufferPointer(rebasing: line[headerValueRange(line, after: colon)])
      if let length = parseDecimalUInt64(bytes: value.assumingMemoryBound(to: UInt8.self)),
        length > UInt64(limit)
      {
        overflowed = true
        return false
      }
    } else if headerName(name, equals: "content-type") {
      let value = UnsafeRawBufferPointer(rebasing: line[headerValueRange(line, after: colon)])
      htmlContentType =
        startsWithIgnoringCase(value, "text/html") ? String(decoding: value, as: UTF8.self) : nil
    } else if headerName(name, equals: "location") {
      location = headerValue(line, after: colon)
    } else if headerName(name, equals: "retry-after") {
      retryAfter = headerValue(line, after: colon)
    }
    return true
  }

  /// Compares a header name with a lower-case name, ignoring ASCII case.
  private func headerName(_ name: UnsafeRawBufferPointer, equals expected: StaticString) -> Bool {
    guard name.count == expected.utf8CodeUnitCount else { return false }
    let expectedBytes = UnsafeRawBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount)
    for index in 0..<name.count {
      var byte = name[index]
      if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
      if byte != expectedBytes[index] { return false }
    }
    return true
  }

  /// Returns the range of a header's value, without the spaces around it
  /// and the line break.
  private func headerValueRange(_ line: UnsafeRawBufferPointer, after colon: Int) -> Range<Int> {
    var start = colon + 1
    var end = line.count
    while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
    while end > start, line[end - 1] == 0x0D || line[end - 1] == 0x0A || line[end - 1] == 0x20 {
      end -= 1
    }
    return start..<end
  }

  private func headerValue(_ line: UnsafeRawBufferPointer, after colon: Int) -> String {
    String(decoding: line[headerValueRange(line, after: colon)], as: UTF8.self)
  }

  /// Returns whether `bytes` start with the lower-case `prefix`, ignoring
  /// ASCII case.
  private func startsWithIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
    guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
    return headerName(UnsafeRawBufferPointer(rebasing: bytes[0..<prefix.utf8CodeUnitCount]), equals: prefix)
  }

  /// Appends body bytes; false when they would pass the limit.
  func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if bytes.count > limit - body.count {
      overflowed = true
      return false
    }
    body.append(contentsOf: bytes)
    return true
  }
}

/// libcurl's write callback: returning less than the size given aborts the
/// transfer with CURLE_WRITE_ERROR.
let responseBodyCallback: curl_write_callback = { data, size, count, userdata in
  guard let userdata else { return 0 }
  let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
  let total = size &* count
  guard let data else { return total }
  return sink.append(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

/// libcurl's header callback, one call per header line.
let responseHeaderCallback: curl_write_callback = { data, size, count, userdata in
  guard let userdata else { return 0 }
  let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
  let total = size &* count
  guard let data else { return total }
  return sink.takeHeaderLine(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

/// libcurl's progress callback, called several times a second during a
/// transfer; a non-zero return stops it with CURLE_ABORTED_BY_CALLBACK.
let transferProgressCallback: curl_xferinfo_callback = { userdata, _, _, _, _ in
  guard let userdata else { return 0 }
  let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
  return sink.cancellation?.isCancelled == true ? 1 : 0
}

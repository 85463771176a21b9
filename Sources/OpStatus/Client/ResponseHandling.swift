import CJansson
import Glibc

/// Maximum number of bytes of an error response body quoted in a message.
let maxQuotedBodyBytes = 300

/// Turns an HTTP response into a decoded model, or into the error that the
/// status, the content or the shape of the body calls for.
func decodeResponse<T>(
  _ response: HTTPResponse, path: String,
  _ decode: (JSONPointer) throws(JSONDecodingError) -> T
) throws(OpStatusError) -> T {
  let document = try parseResponseDocument(response, path: path)
  do {
    return try decode(document.root)
  } catch {
    throw unexpectedResponse(error, response: response, path: path)
  }
}

/// Parses a 2xx response body with jansson, or throws the error that the
/// status, the content type or the text calls for.
func parseResponseDocument(_ response: HTTPResponse, path: String) throws(OpStatusError)
  -> JSONDocument
{
  let status = response.status
  let body = response.sink.body

  if status < 200 || status >= 300 {
    throw httpStatusError(response, path: path)
  }

  if let type = response.sink.htmlContentType {
    throw OpStatusError(
      .protocolError,
      "POST \(path): HTTP \(status) with an HTML page instead of JSON "
        + "(Content-Type \(quoteForMessage(type))); check api_url: \(bodyExcerpt(body))",
      httpStatus: status)
  }

  let parsed = body.withUnsafeBytes { JSONDocument.parse($0) }
  switch parsed {
  case .success(let value):
    return value
  case .failure(let error):
    throw OpStatusError(
      .protocolError,
      "POST \(path): HTTP \(status) response is not valid JSON: \(error)", httpStatus: status)
  }
}

/// Parses and checks a status response and applies the API error rules.
func decodeStatusResponse(_ response: HTTPResponse, path: String, classifier: StatusClassifier)
  throws(OpStatusError) -> StatusResult
{
  let document = try parseResponseDocument(response, path: path)
  let examination: StatusExamination
  do {
    examination = try examineStatus(document.root, classifier: classifier)
  } catch {
    throw unexpectedResponse(error, response: response, path: path)
  }
  try checkAPIError(examination.apiError, path: path)
  let text = examination.isCanonical ? response.sink.body : nil
  return StatusResult(document: document, examination: examination, text: text)
}

/// Returns the error for a response of the wrong shape.
func unexpectedResponse(_ error: JSONDecodingError, response: HTTPResponse, path: String)
  -> OpStatusError
{
  OpStatusError(
    .protocolError, "POST \(path): unexpected response: \(error)", httpStatus: response.status)
}

/// Returns the error for an HTTP status outside 2xx, with the start of the body.
func httpStatusError(_ response: HTTPResponse, path: String) -> OpStatusError {
  let status = response.status
  let code = ResultCode.forHTTPStatus(status)
  var message = "POST \(path): HTTP \(status)"

  if (300..<400).contains(status) {
    let host = response.sink.location.map(hostOfLocation) ?? "an unknown host"
    message += " redirect to \(host) was not followed, because credentials must not be "
      + "sent elsewhere; check api_url"
    return OpStatusError(code, message, httpStatus: status)
  }

  let excerpt = bodyExcerpt(response.sink.body)
  if !excerpt.isEmpty {
    message += ": \(excerpt)"
  }
  return OpStatusError(
    code, message, httpStatus: status,
    retryAfterMilliseconds: response.sink.retryAfter.flatMap(parseRetryAfter))
}

/// Returns the first bytes of a body as printable text for an error message.
func bodyExcerpt(_ body: [UInt8]) -> String {
  let cut = body.prefix(maxQuotedBodyBytes)
  var text = ""
  for scalar in String(decoding: cut, as: UTF8.self).unicodeScalars {
    text.unicodeScalars.append(isControlCharacter(scalar) ? " " : scalar)
  }
  if body.count > maxQuotedBodyBytes {
    text += "… (\(body.count) bytes)"
  }
  return text.trimmingSpaces()
}

/// Returns the host of a Location header value, quoted, for messages.
func hostOfLocation(_ location: String) -> String {
  var rest = Substring(location)
  if let schemeEnd = rest.firstRange(of: "://") {
    rest = rest[schemeEnd.upperBound...]
  } else if rest.hasPrefix("//") {
    // A scheme-relative reference names another host too.
    rest = rest.dropFirst(2)
  } else {
    return "a path on the same host (\(quoteForMessage(location, maxLength: 80)))"
  }
  let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
  var authority = rest[..<end]
  if let at = authority.lastIndex(of: "@") {
    authority = authority[authority.index(after: at)...]
  }
  return quoteForMessage(String(authority), maxLength: 80)
}

/// Reads `Retry-After` in either form of RFC 9110: delta seconds, or an
/// HTTP date, which becomes the time from now until then (0 when it has
/// passed). Returns nil for a value in neither form.
func parseRetryAfter(_ value: String) -> Int64? {
  if let seconds = parseDecimalUInt64(value) {
    return Int64(min(seconds, 86_400_000)) * 1000
  }
  // Digits too many for 64 bits still ask for a very long wait.
  if !value.isEmpty && value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
    return 86_400_000 * 1000
  }
  guard let date = parseHTTPDate(value) else { return nil }
  var now = timespec()
  clock_gettime(CLOCK_REALTIME, &now)
  let nowMilliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  return max(0, date * 1000 - nowMilliseconds)
}

/// Parses the IMF-fixdate form of an HTTP date, `Sun, 06 Nov 1994 08:49:37
/// GMT`, into seconds since the epoch. The obsolete forms are not accepted.
func parseHTTPDate(_ text: String) -> Int64? {
  let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
  let parts = text.split(separator: " ")
  guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
    let day = parseDecimalUInt64(String(parts[1])), parts[1].count == 2,
    let monthIndex = months.firstIndex(of: String(parts[2])),
    let year = parseDecimalUInt64(String(parts[3])), parts[3].count == 4
  else { return nil }
  let clock = parts[4].split(separator: ":")
  guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
    let hour = parseDecimalUInt64(String(clock[0])),
    let minute = parseDecimalUInt64(String(clock[1])),
    let second = parseDecimalUInt64(String(clock[2]))
  else { return nil }
  let month = String(format2: monthIndex + 1)
  let rfc3339 = "\(year)-\(month)-\(String(format2: Int(day)))T\(String(format2: Int(hour))):"
    + "\(String(format2: Int(minute))):\(String(format2: Int(second)))Z"
  return Timestamp(rfc3339).map { $0.millisecondsSinceEpoch / 1000 }
}

extension String {
  /// Formats a number of at most two digits with a leading zero, as in dates.
  init(format2 value: Int) {
    self = value < 10 ? "0\(value)" : "\(value)"
  }

  /// Formats a number of at most three digits with leading zeros, as
  /// milliseconds.
  init(format3 value: Int) {
    if value < 10 {
      self = "00\(value)"
    } else if value < 100 {
      self = "0\(value)"
    } else {
      self = "\(value)"
    }
  }
}

/// Fails with OPSTATUS_EAPI for an `error.code` other than `EOK` and
/// `EPARTIAL`. A partial response is a success that carries its code.
func checkAPIError(_ error: APIErrorDetail?, path: String) throws(OpStatusError) {
  guard let error, let code = error.code, code != "EOK", code != "EPARTIAL" else { return }
  let message = error.message.map { ": \(quoteForMessage($0, maxLength: 300))" } ?? ""
  throw OpStatusError(
    .apiError, "POST \(path): the API returned \(code)\(message)", httpStatus: 200,
    apiCode: code)
}

extension String {
  func trimmingSpaces() -> String {
    var scalars = Substring(self).unicodeScalars
    while let first = scalars.first, first == " " { scalars.removeFirst() }
    while let last = scalars.last, last == " " { scalars.removeLast() }
    return String(scalars)
  }
}

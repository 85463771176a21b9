/// A point in time read from the API, kept with the text the server sent.
///
/// The API writes times as RFC 3339 (`2019-09-23T12:32:11.733Z`) or as a
/// unix timestamp in seconds (`1569241931` or `1569241931.733`). The text is
/// kept as it came, and the parsed value orders times for the summary.
struct Timestamp: Sendable, Equatable {
  let text: String
  /// Milliseconds since 1970-01-01T00:00:00Z.
  let millisecondsSinceEpoch: Int64

  init(text: String, millisecondsSinceEpoch: Int64) {
    self.text = text
    self.millisecondsSinceEpoch = millisecondsSinceEpoch
  }

  /// Parses `text`, or returns nil when it is neither form.
  init?(_ text: String) {
    var copy = text
    let parsed = copy.withUTF8 { bytes in parseUnixTimestamp(bytes) ?? parseRFC3339(bytes) }
    guard let milliseconds = parsed else {
      return nil
    }
    self.text = text
    self.millisecondsSinceEpoch = milliseconds
  }
}

extension Timestamp {
  /// A time given as seconds since the epoch with a fraction, written as
  /// RFC 3339 in UTC with milliseconds, such as `1970-01-01T00:00:01.500Z`,
  /// since servers may not accept a fraction in a unix timestamp. nil for
  /// a value that is negative, not finite, or past the year 9999.
  init?(unixSeconds: Double) {
    guard unixSeconds.isFinite, unixSeconds >= 0, unixSeconds < 253_402_300_800 else {
      return nil
    }
    let milliseconds = Int64((unixSeconds * 1000).rounded())
    let days = milliseconds / 86_400_000
    let inDay = milliseconds % 86_400_000
    let (year, month, day) = civilDate(daysSinceEpoch: days)
    let text =
      "\(year)-\(String(format2: Int(month)))-\(String(format2: Int(day)))T"
      + "\(String(format2: Int(inDay / 3_600_000))):\(String(format2: Int(inDay / 60_000 % 60))):"
      + "\(String(format2: Int(inDay / 1000 % 60))).\(String(format3: Int(inDay % 1000)))Z"
    self.init(text)
  }
}

/// The Gregorian date of a day counted from 1970-01-01, the inverse of
/// `daysSinceEpoch`.
private func civilDate(daysSinceEpoch days: Int64) -> (Int64, Int64, Int64) {
  let shifted = days + 719_468
  let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
  let dayOfEra = shifted - era * 146_097
  let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
  let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
  let shiftedMonth = (5 * dayOfYear + 2) / 153
  let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
  let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
  let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  return (year, month, day)
}

/// Milliseconds since the epoch of a time in either form, or nil.
func parseTimestampMilliseconds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
  // A dash after the year marks RFC 3339, which a unix timestamp never has.
  if bytes.count > 4 && bytes[4] == UInt8(ascii: "-") {
    return parseRFC3339(bytes)
  }
  return parseUnixTimestamp(bytes)
}

/// Parses seconds since the epoch with an optional fraction.
private func parseUnixTimestamp(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
  guard !bytes.isEmpty, bytes.count <= 24 else { return nil }
  var seconds: Int64 = 0
  var index = 0
  var digits = 0
  while index < bytes.count, isDigit(bytes[index]) {
    // 12 digits reach the year 33658, far past any real time.
    guard digits < 12 else { return nil }
    seconds = seconds * 10 + Int64(bytes[index] - 0x30)
    index += 1
    digits += 1
  }
  guard digits > 0 else { return nil }
  let fraction = parseFraction(bytes, from: &index)
  guard index == bytes.count, let fraction else { return nil }
  return seconds * 1000 + fraction
}

/// Parses `.digits` at `index` into milliseconds; returns 0 when there is no
/// fraction and nil when the dot has no digits.
private func parseFraction(_ bytes: UnsafeBufferPointer<UInt8>, from index: inout Int) -> Int64? {
  guard index < bytes.count, bytes[index] == UInt8(ascii: ".") else { return 0 }
  index += 1
  var milliseconds: Int64 = 0
  var digits = 0
  while index < bytes.count, isDigit(bytes[index]) {
    if digits < 3 {
      milliseconds = milliseconds * 10 + Int64(bytes[index] - 0x30)
    }
    digits += 1
    index += 1
  }
  guard digits > 0 else { return nil }
  for _ in digits..<max(digits, 3) {
    milliseconds *= 10
  }
  return milliseconds
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. A lower-case `t` or a
/// space may separate date and time, as RFC 3339 allows.
private func parseRFC3339(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
  guard bytes.count >= 20, bytes.count <= 40 else { return nil }
  guard let year = number(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
    let month = number(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
    let day = number(bytes, 8, 2),
    bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t")
      || bytes[10] == UInt8(ascii: " "),
    let hour = number(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
    let minute = number(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
    let second = number(bytes, 17, 2)
  else { return nil }

  // A leap second (60) is allowed by RFC 3339.
  guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour <= 23,
    minute <= 59, second <= 60
  else { return nil }

  var index = 19
  guard let fraction = parseFraction(bytes, from: &index), index < bytes.count else {
    return nil
  }

  var offsetSeconds: Int64 = 0
  switch bytes[index] {
  case UInt8(ascii: "Z"), UInt8(ascii: "z"):
    index += 1
  case UInt8(ascii: "+"), UInt8(ascii: "-"):
    guard index + 6 == bytes.count, let offsetHour = number(bytes, index + 1, 2),
      bytes[index + 3] == UInt8(ascii: ":"), let offsetMinute = number(bytes, index + 4, 2),
      offsetHour <= 23, offsetMinute <= 59
    else { return nil }
    offsetSeconds = (offsetHour * 3600 + offsetMinute * 60)
    if bytes[index] == UInt8(ascii: "-") { offsetSeconds = -offsetSeconds }
    index += 6
  default:
    return nil
  }
  guard index == bytes.count else { return nil }

  let days = daysSinceEpoch(year: year, month: month, day: day)
  let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
  return seconds * 1000 + fraction
}

private func isDigit(_ byte: UInt8) -> Bool {
  byte >= 0x30 && byte <= 0x39
}

/// Parses `length` digits at `start`. Inlined, since a time has six such
/// numbers and every status item has up to three times.
@inline(__always)
private func number(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Int64? {
  var value: Int64 = 0
  var invalid = false
  for index in start..<(start + length) {
    let digit = bytes[index] &- 0x30
    invalid = invalid || digit > 9
    value = value &* 10 &+ Int64(digit)
  }
  return invalid ? nil : value
}

private func isLeapYear(_ year: Int64) -> Bool {
  (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

private func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
  switch month {
  case 2: return isLeapYear(year) ? 29 : 28
  case 4, 6, 9, 11: return 30
  default: return 31
  }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar, by
/// counting whole 400-year eras, which each have 146097 days.
private func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
  let shiftedYear = month <= 2 ? year - 1 : year
  let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
  let yearOfEra = shiftedYear - era * 400
  let shiftedMonth = month > 2 ? month - 3 : month + 9
  let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
  let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

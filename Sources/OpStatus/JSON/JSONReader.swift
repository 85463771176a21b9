import CJansson

/// Reads the fields of one JSON object with the tolerance that protobuf's
/// JSON mapping needs.
///
/// A field that is absent or `null` reads as nil. Integers are accepted as
/// JSON numbers or as decimal strings. Errors carry the field's key as
/// their path, and the caller prepends the path to the object.
struct JSONObjectReader {
  let object: JSONPointer

  /// Wraps `value` after checking that it is an object.
  init(_ value: JSONPointer) throws(JSONDecodingError) {
    guard value.isObject else {
      throw JSONDecodingError("expected an object, found \(value.shortDescription)")
    }
    object = value
  }

  /// Returns the field's value, or nil when it is absent or null.
  func value(_ key: StaticString) -> JSONPointer? {
    let raw = key.utf8Start.withMemoryRebound(to: CChar.self, capacity: key.utf8CodeUnitCount) {
      json_object_get(object, $0)
    }
    guard let raw, !raw.isNull else { return nil }
    return raw
  }

  func string(_ key: StaticString) throws(JSONDecodingError) -> String? {
    guard let value = value(key) else { return nil }
    guard value.isString else {
      throw JSONDecodingError(
        "expected a string, found \(value.shortDescription)", at: [.key("\(key)")])
    }
    guard let string = value.validatedStringValue else {
      throw JSONDecodingError("expected a UTF-8 string, found invalid UTF-8", at: [.key("\(key)")])
    }
    return string
  }

  func bool(_ key: StaticString) throws(JSONDecodingError) -> Bool? {
    guard let value = value(key) else { return nil }
    guard value.isBool else {
      throw JSONDecodingError(
        "expected true or false, found \(value.shortDescription)", at: [.key("\(key)")])
    }
    return value.pointee.type == JSON_TRUE
  }

  /// Reads a non-negative integer up to `Int64.max`, given as a number or
  /// a decimal string.
  func nonNegativeInt64(_ key: StaticString) throws(JSONDecodingError) -> Int64? {
    guard let value = value(key) else { return nil }
    do {
      return try readNonNegativeInt64(value)
    } catch {
      throw error.prefixed(.key("\(key)"))
    }
  }

  /// Reads an unsigned 64-bit integer, given as a decimal string or a number.
  func uint64(_ key: StaticString) throws(JSONDecodingError) -> UInt64? {
    guard let value = value(key) else { return nil }
    do {
      return try readUInt64(value)
    } catch {
      throw error.prefixed(.key("\(key)"))
    }
  }

  /// Reads a finite JSON number, integer or real.
  func double(_ key: StaticString) throws(JSONDecodingError) -> Double? {
    guard let value = value(key) else { return nil }
    if value.isInteger { return Double(json_integer_value(value)) }
    if value.isReal { return json_real_value(value) }
    throw JSONDecodingError(
      "expected a number, found \(value.shortDescription)", at: [.key("\(key)")])
  }

  func object(_ key: StaticString) throws(JSONDecodingError) -> JSONObjectReader? {
    guard let value = value(key) else { return nil }
    do {
      return try JSONObjectReader(value)
    } catch {
      throw error.prefixed(.key("\(key)"))
    }
  }

  /// Returns the elements of an array field.
  func array(_ key: StaticString) throws(JSONDecodingError) -> JSONArray? {
    guard let value = value(key) else { return nil }
    guard value.isArray else {
      throw JSONDecodingError(
        "expected an array, found \(value.shortDescription)", at: [.key("\(key)")])
    }
    return JSONArray(array: value)
  }

  /// Throws for the first key that is not in `known`. Used for input from
  /// callers, where an unknown key is most likely a misspelt one.
  func rejectUnknownKeys(_ known: [String]) throws(JSONDecodingError) {
    var iterator = json_object_iter(object)
    while let current = iterator {
      let key = String(cString: json_object_iter_key(current))
      if !known.contains(key) {
        let list = known.joined(separator: ", ")
        throw JSONDecodingError("unknown key; expected one of: \(list)", at: [.key(key)])
      }
      iterator = json_object_iter_next(object, current)
    }
  }
}

/// A JSON array that is read element by element without copying.
struct JSONArray: Sequence {
  let array: JSONPointer

  var count: Int { json_array_size(array) }

  func makeIterator() -> Iterator {
    Iterator(array: array, count: json_array_size(array))
  }

  struct Iterator: IteratorProtocol {
    let array: JSONPointer
    let count: Int
    var index = 0

    mutating func next() -> (index: Int, value: JSONPointer)? {
      guard index < count, let value = json_array_get(array, index) else { return nil }
      defer { index += 1 }
      return (index, value)
    }
  }
}

/// Reads a non-negative integer up to `Int64.max` from a JSON number or a
/// decimal string.
func readNonNegativeInt64(_ value: JSONPointer) throws(JSONDecodingError) -> Int64 {
  let expected = "expected a non-negative 64-bit integer as a number or a decimal string"
  if value.isInteger {
    let number = json_integer_value(value)
    guard number >= 0 else {
      throw JSONDecodingError("\(expected), found \(number)")
    }
    return Int64(number)
  }
  if value.isReal, let number = exactInteger(json_real_value(value)), number >= 0 {
    return number
  }
  if value.isString, let number = parseDecimalUInt64(bytes: value.stringBytes),
    number <= UInt64(Int64.max)
  {
    return Int64(number)
  }
  throw JSONDecodingError("\(expected), found \(value.shortDescription)")
}

/// Reads an unsigned 64-bit integer from a decimal string or a JSON number.
/// jansson stores numbers as signed 64-bit values, so only the string form
/// reaches the top half of the range.
func readUInt64(_ value: JSONPointer) throws(JSONDecodingError) -> UInt64 {
  if value.isString, let number = parseDecimalUInt64(bytes: value.stringBytes) {
    return number
  }
  if value.isInteger, json_integer_value(value) >= 0 {
    return UInt64(json_integer_value(value))
  }
  if value.isReal, let number = exactInteger(json_real_value(value)), number >= 0 {
    return UInt64(number)
  }
  throw JSONDecodingError(
    "expected an unsigned 64-bit integer as a decimal string, found \(value.shortDescription)")
}

/// Parses ASCII digits without sign, spaces or exponent; nil on any other
/// character, on an empty string and on overflow.
func parseDecimalUInt64(_ text: String) -> UInt64? {
  var copy = text
  return copy.withUTF8 { parseDecimalUInt64(bytes: $0) }
}

/// Parses the digits of a byte buffer, as `parseDecimalUInt64(_:)` does.
func parseDecimalUInt64(bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
  var result: UInt64 = 0
  var digits = 0
  for byte in bytes {
    guard byte >= 0x30, byte <= 0x39 else { return nil }
    let (times10, overflow1) = result.multipliedReportingOverflow(by: 10)
    let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
    if overflow1 || overflow2 { return nil }
    result = sum
    digits += 1
  }
  return digits > 0 ? result : nil
}

/// Returns the integer value of a JSON real such as `5.0` or `1e3`, or nil when it
/// has a fraction or lies outside the signed 64-bit range.
private func exactInteger(_ real: Double) -> Int64? {
  guard real.isFinite, real == real.rounded(.towardZero) else { return nil }
  guard real >= -9.223372036854775808e18, real < 9.223372036854775808e18 else { return nil }
  return Int64(real)
}

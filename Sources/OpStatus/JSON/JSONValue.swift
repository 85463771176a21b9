import CJansson
import Glibc

/// A borrowed or owned pointer to a jansson value.
typealias JSONPointer = UnsafeMutablePointer<json_t>

/// Longest piece of a string value quoted in an error message.
private let maxQuotedLength = 40

extension UnsafeMutablePointer where Pointee == json_t {
  var isObject: Bool { pointee.type == JSON_OBJECT }
  var isArray: Bool { pointee.type == JSON_ARRAY }
  var isString: Bool { pointee.type == JSON_STRING }
  var isInteger: Bool { pointee.type == JSON_INTEGER }
  var isReal: Bool { pointee.type == JSON_REAL }
  var isNull: Bool { pointee.type == JSON_NULL }
  var isBool: Bool { pointee.type == JSON_TRUE || pointee.type == JSON_FALSE }

  /// The value of a JSON string as a Swift string. Bytes that are not
  /// UTF-8, which only a caller's `json_string_nocheck` can produce, become
  /// U+FFFD; readers that must reject them use `validatedStringValue`.
  var stringValue: String {
    validatedStringValue ?? String(decoding: stringBytes, as: UTF8.self)
  }

  /// The value of a JSON string, or nil when its bytes are not UTF-8.
  var validatedStringValue: String? {
    String(validating: stringBytes, as: UTF8.self)
  }

  /// The bytes of a JSON string, valid while the value lives.
  var stringBytes: UnsafeBufferPointer<UInt8> {
    guard let bytes = json_string_value(self) else { return UnsafeBufferPointer(start: nil, count: 0) }
    let length = json_string_length(self)
    return UnsafeRawPointer(bytes).withMemoryRebound(to: UInt8.self, capacity: length) {
      UnsafeBufferPointer(start: $0, count: length)
    }
  }

  /// The value's type for error messages about secrets, which must not
  /// show the value itself.
  var typeDescription: String {
    switch pointee.type {
    case JSON_OBJECT: return "an object"
    case JSON_ARRAY: return "an array"
    case JSON_TRUE, JSON_FALSE: return "a boolean"
    case JSON_NULL: return "null"
    case JSON_INTEGER, JSON_REAL: return "a number"
    case JSON_STRING: return "a string"
    default: return "a value of unknown type"
    }
  }

  /// A short description of the value for error messages, such as `true`,
  /// `5`, `"abc"` or `an object`.
  var shortDescription: String {
    switch pointee.type {
    case JSON_OBJECT: return "an object"
    case JSON_ARRAY: return "an array"
    case JSON_TRUE: return "true"
    case JSON_FALSE: return "false"
    case JSON_NULL: return "null"
    case JSON_INTEGER: return String(json_integer_value(self))
    case JSON_REAL: return "the number \(json_real_value(self))"
    case JSON_STRING: return quoteForMessage(stringValue)
    default: return "a value of unknown type"
    }
  }
}

/// Quotes a string for an error message: control characters become escapes
/// and long strings are cut, so that a hostile value cannot flood a log or
/// forge lines in it.
func quoteForMessage(_ text: String, maxLength: Int = maxQuotedLength) -> String {
  var result = "\""
  var count = 0
  for scalar in text.unicodeScalars {
    if count == maxLength {
      result += "…"
      break
    }
    switch scalar {
    case "\"": result += "\\\""
    case "\\": result += "\\\\"
    case "\n": result += "\\n"
    case "\r": result += "\\r"
    case "\t": result += "\\t"
    default:
      if isControlCharacter(scalar) || scalar == "\u{2028}" || scalar == "\u{2029}" {
        result += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
    count += 1
  }
  return result + "\""
}

/// An owned reference to a jansson value, released when this object goes
/// away.
final class JSONDocument {
  let root: JSONPointer

  /// Takes over one reference that the caller owns.
  init(taking root: JSONPointer) {
    self.root = root
  }

  deinit {
    json_decref(root)
  }

  /// Parses JSON text. Duplicate keys are rejected because a reader could
  /// not tell which of the values the sender meant.
  ///
  /// A NUL byte is rejected too. jansson 2.14 passes over one that follows
  /// a number, as in `10\0,`, and the text results of the library are C
  /// strings, which such a byte would cut short.
  static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONDocument, JSONParseError> {
    var error = json_error_t()
    let flags = Int(JSON_REJECT_DUPLICATES)
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else {
      return parse("")
    }
    if let nul = memchr(base, 0, bytes.count) {
      return .failure(JSONParseError(nulAt: UnsafeRawPointer(base).distance(to: nul), in: bytes))
    }
    guard let root = json_loadb(base, bytes.count, flags, &error) else {
      return .failure(JSONParseError(error))
    }
    return .success(JSONDocument(taking: root))
  }

  static func parse(_ text: UnsafePointer<CChar>) -> Result<JSONDocument, JSONParseError> {
    var error = json_error_t()
    guard let root = json_loads(text, Int(JSON_REJECT_DUPLICATES), &error) else {
      return .failure(JSONParseError(error))
    }
    return .success(JSONDocument(taking: root))
  }
}

/// jansson's description of text that is not valid JSON.
struct JSONParseError: Error, CustomStringConvertible {
  let text: String
  let line: Int
  let column: Int
  let position: Int

  init(_ error: json_error_t) {
    var copy = error
    text = withUnsafeBytes(of: &copy.text) { raw in
      let bytes = raw.bindMemory(to: UInt8.self)
      let end = bytes.firstIndex(of: 0) ?? bytes.count
      return String(decoding: bytes[..<end], as: UTF8.self)
    }
    line = Int(error.line)
    column = Int(error.column)
    position = Int(error.position)
  }

  /// Creates the error for a NUL byte at `position`, counting lines and
  /// columns from 1, as jansson does.
  init(nulAt position: Int, in bytes: UnsafeRawBufferPointer) {
    let before = bytes[..<position]
    let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
    text = "invalid NUL byte in the text"
    line = 1 + before.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    column = position - lineStart + 1
    self.position = position
  }

  var description: String { "\(text) at line \(line), column \(column)" }

  /// The description without jansson's quote of the text near the error,
  /// for input that may hold a secret, such as a token in config_json.
  var descriptionWithoutExcerpt: String {
    let reason = text.firstRange(of: " near ").map { String(text[..<$0.lowerBound]) } ?? text
    return "\(reason) at line \(line), column \(column)"
  }
}

/// Serialises a value to compact JSON text allocated with malloc, or nil
/// when memory runs out.
func dumpJSON(_ value: JSONPointer) -> UnsafeMutablePointer<CChar>? {
  json_dumps(value, Int(JSON_COMPACT))
}

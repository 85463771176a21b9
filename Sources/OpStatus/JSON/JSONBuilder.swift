import CJansson

/// Builds a JSON object with jansson, remembering whether any allocation
/// failed so that callers check once at the end instead of at every field.
struct JSONObjectBuilder {
  private(set) var object: JSONPointer?
  private(set) var failed = false

  init() {
    object = json_object()
    failed = object == nil
  }

  /// Sets `key` to `value`, taking over the caller's reference. A nil value
  /// means an allocation failed before this call.
  mutating func set(_ key: StaticString, _ value: JSONPointer?) {
    guard let object, let value else {
      failed = true
      if let value { json_decref(value) }
      return
    }
    let status = key.utf8Start.withMemoryRebound(
      to: CChar.self, capacity: key.utf8CodeUnitCount
    ) {
      json_object_set_new_nocheck(object, $0, value)
    }
    if status != 0 { failed = true }
  }

  mutating func set(_ key: StaticString, string: String?) {
    guard let string else { return }
    set(key, makeJSONString(string))
  }

  mutating func set(_ key: StaticString, integer: Int64?) {
    guard let integer else { return }
    set(key, json_integer(json_int_t(integer)))
  }

  mutating func set(_ key: StaticString, bool: Bool?) {
    guard let bool else { return }
    set(key, bool ? json_true() : json_false())
  }

  /// Returns the object, or nil after releasing it when any step failed.
  consuming func finish() -> JSONPointer? {
    if failed {
      if let object { json_decref(object) }
      return nil
    }
    return object
  }
}

/// A JSON string with the bytes of `text`, or nil when memory runs out.
/// Swift strings are valid UTF-8, which jansson requires.
func makeJSONString(_ text: String) -> JSONPointer? {
  var copy = text
  return copy.withUTF8 { bytes in
    guard let base = bytes.baseAddress else { return json_string_nocheck("") }
    return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
      json_stringn_nocheck($0, bytes.count)
    }
  }
}

import CJansson
import Glibc
import Testing

@testable import OpStatus

/// A parse failure of test JSON, raised so that the test that gave the
/// text fails with jansson's message.
struct TestJSONError: Error, CustomStringConvertible {
  let description: String
}

/// Parses JSON text with the parser that reads server responses.
func parseJSON(_ text: String) throws -> JSONDocument {
  let bytes = Array(text.utf8)
  let result = bytes.withUnsafeBytes { JSONDocument.parse($0) }
  switch result {
  case .success(let document):
    return document
  case .failure(let error):
    throw TestJSONError(description: "test JSON is invalid: \(error)")
  }
}

/// Parses and decodes a status response.
func decodeStatus(_ text: String) throws -> ServiceOperationStatus {
  let document = try parseJSON(text)
  return try withExtendedLifetime(document) {
    try ServiceOperationStatus(json: document.root)
  }
}

/// Decodes a status response that must fail and returns the error's
/// description, or nil when decoding succeeded.
func decodingFailure(_ text: String) throws -> String? {
  let document = try parseJSON(text)
  return withExtendedLifetime(document) { () -> String? in
    do throws(JSONDecodingError) {
      _ = try ServiceOperationStatus(json: document.root)
      return nil
    } catch {
      return error.description
    }
  }
}

/// Decodes `{"items": [{"purge": {FIELDS}}]}` and returns the purge object.
func decodePurge(_ fields: String) throws -> PurgeOperationItem? {
  let status = try decodeStatus(#"{"items": [{"purge": {"# + fields + "}}]}")
  return status.items?.first?.purge
}

/// Decodes `{"items": [{FIELDS}]}` and returns the one item.
func decodeItem(_ fields: String) throws -> ServiceOperationItem? {
  let status = try decodeStatus(#"{"items": [{"# + fields + "}]}")
  return status.items?.first
}

/// Decodes `{"error": {FIELDS}}` and returns the error object.
func decodeErrorDetail(_ fields: String) throws -> APIErrorDetail? {
  try decodeStatus(#"{"error": {"# + fields + "}}").error
}

/// Reads a status request from JSON text.
func decodeRequest(_ text: String) throws -> Result<StatusRequest, OpStatusError> {
  let document = try parseJSON(text)
  return withExtendedLifetime(document) {
    do throws(OpStatusError) {
      return .success(try StatusRequest(json: document.root))
    } catch {
      return .failure(error)
    }
  }
}

/// Reads client settings from config JSON text, as `opstatus_client_new`
/// does.
func loadConfiguration(_ text: String) -> Result<Configuration, OpStatusError> {
  text.withCString { pointer in
    do throws(OpStatusError) {
      return .success(try Configuration(jsonText: pointer))
    } catch {
      return .failure(error)
    }
  }
}

/// Checks a name or namespace and returns the error, or nil when accepted.
func identifierFailure(_ value: String) -> OpStatusError? {
  do throws(OpStatusError) {
    try validateIdentifier(value, field: "name")
    return nil
  } catch {
    return error
  }
}

/// Parses an API URL and returns the error, or nil when accepted.
func endpointFailure(_ text: String) -> OpStatusError? {
  do throws(OpStatusError) {
    _ = try APIEndpoint(text)
    return nil
  } catch {
    return error
  }
}

extension Result {
  /// The error of a failure, or nil on success.
  var failure: Failure? {
    if case .failure(let error) = self { return error }
    return nil
  }
}

/// A new directory under `TMPDIR` (or `/tmp` when it is unset). The test
/// deletes it and its files with `remove()`.
struct TemporaryDirectory {
  let path: String

  init() throws {
    var base = "/tmp"
    if let value = getenv("TMPDIR"), value.pointee != 0 {
      base = String(cString: value)
    }
    var template = Array((base + "/opstatus-tests-XXXXXX").utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer in
      mkdtemp(buffer.baseAddress!)
    }
    guard created != nil else {
      throw TestJSONError(description: "mkdtemp failed: \(String(cString: strerror(errno)))")
    }
    path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  /// Writes `contents` to a new file in the directory and returns its path.
  func writeFile(_ name: String, _ contents: String) -> String {
    let filePath = path + "/" + name
    let file = fopen(filePath, "wb")
    if let file {
      fputs(contents, file)
      fclose(file)
    }
    return filePath
  }

  /// Deletes the files in the directory, then the directory itself.
  func remove() {
    if let directory = opendir(path) {
      while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name != "." && name != ".." {
          unlink(path + "/" + name)
        }
      }
      closedir(directory)
    }
    rmdir(path)
  }
}

/// Returns the value of `key` in a jansson object as a borrowed reference.
func member(_ object: JSONPointer?, _ key: String) -> JSONPointer? {
  guard let object else { return nil }
  return json_object_get(object, key)
}

/// Returns the text of a jansson string, or nil for any other type.
func stringValue(_ value: JSONPointer?) -> String? {
  guard let value, value.isString else { return nil }
  return String(cString: json_string_value(value))
}

/// Returns the value of a jansson integer, or nil for any other type.
func integerValue(_ value: JSONPointer?) -> Int64? {
  guard let value, value.isInteger else { return nil }
  return Int64(json_integer_value(value))
}

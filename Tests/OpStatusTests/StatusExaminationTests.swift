import CJansson
import Glibc
import Testing

@testable import OpStatus

/// Responses that the in-place examination and the model decoder must
/// treat alike: accepted with the same result, or rejected with the same
/// message.
private let responses: [String] = [
  #"{"items": []}"#,
  #"{}"#,
  #"{"items": [{}]}"#,
  #"{"items": [{"service_op_id": 101, "status": "success", "purge": {"site": "ves-io-pa4-par", "bytes_purged": "1024", "bytes_not_purged": "0", "hard_purge": true, "regexp": ".*", "start_time": "2019-09-23T12:30:11.733Z", "finish_time": "2019-09-23T12:32:11.733Z", "purge_time": "2019-09-23T12:30:11.733Z"}}]}"#,
  #" { "items" : [ { "status" : "success" } , { "status" : "failed" } ] } "#,
  #"{"items": [{"service_op_id": "101", "status": "Success"}]}"#,
  #"{"items": [{"purge": {"bytes_purged": 1024, "bytes_not_purged": "18446744073709551615"}}]}"#,
  #"{"items": [{"purge": {"start_time": "", "finish_time": "1569241931"}}]}"#,
  #"{"items": [{"status": null, "extra": 1, "purge": {"site": "a", "unknown": {"x": [1, 2]}}}], "more": true}"#,
  #"{"items": [{"status": "in_progress"}], "error": {"code": 8, "message": "partial"}}"#,
  #"{"items": [], "error": {"code": "EPARTIAL", "error_obj": {"type_url": "t", "value": "dg==", "x": 1}}}"#,
  #"{"it\u0065ms": [{"status": "success"}]}"#,
  #"{"items": [{"purge": {"bytes_purged": true}}]}"#,
  #"{"items": {"status": "success"}}"#,
  #"{"items": [{"service_op_id": -1}]}"#,
  #"{"items": [{"status": 5}]}"#,
  #"{"items": [{"purge": {"hard_purge": "yes"}}]}"#,
  #"{"items": [{"purge": {"finish_time": "yesterday"}}]}"#,
  #"{"items": [{"purge": "all"}]}"#,
  #"{"items": [{}, {}, {"purge": {"bytes_not_purged": "18446744073709551616"}}]}"#,
  #"{"error": {"code": true}}"#,
  #"[]"#,
]

/// Returns the examination's result text and error message for a response.
private func examine(_ text: String) throws -> (result: String?, error: String?) {
  let document = try parseJSON(text)
  do {
    let examination = try examineStatus(document.root, classifier: StatusClassifier())
    let result = StatusResult(
      document: document, examination: examination, text: Array(text.utf8))
    guard let output = result.text() else { return (nil, "no memory") }
    defer { free(output) }
    return (String(cString: output), nil)
  } catch {
    return (nil, error.description)
  }
}

/// Returns the model decoder's result text and error message for a response.
private func decodeWithModels(_ text: String) throws -> (result: String?, error: String?) {
  let document = try parseJSON(text)
  do {
    let status = try ServiceOperationStatus(json: document.root)
    let summary = StatusSummary(items: status.items ?? [], classifier: StatusClassifier())
    guard let value = status.encodeResult(summary: summary) else { return (nil, "no memory") }
    defer { json_decref(value) }
    let bytes = try dumpToBytes(value)
    return (String(decoding: bytes, as: UTF8.self), nil)
  } catch let error as JSONDecodingError {
    return (nil, error.description)
  }
}

/// Returns whether two JSON texts contain equal values, whatever their key
/// order.
private func equalJSON(_ left: String, _ right: String) throws -> Bool {
  let leftDocument = try parseJSON(left)
  let rightDocument = try parseJSON(right)
  return json_equal(leftDocument.root, rightDocument.root) == 1
}

@Suite struct StatusExamination {
  @Test(arguments: responses)
  func agreesWithModels(response: String) throws {
    let examined = try examine(response)
    let decoded = try decodeWithModels(response)
    #expect(examined.error == decoded.error)
    if let examinedResult = examined.result, let decodedResult = decoded.result {
      #expect(try equalJSON(examinedResult, decodedResult))
    }
  }

  @Test func canonicalResponseSpliced() throws {
    let response = #"{"items": [{"status": "success"}, {}]}"#
    let examined = try examine(response)
    #expect(examined.result?.hasPrefix(#"{"items": [{"state":"succeeded","status": "success"}"#) == true)
  }

  @Test func summaryTextMatchesEncodedSummary() throws {
    let document = try parseJSON(
      #"{"items": [{"status": "success", "purge": {"bytes_purged": "5", "start_time": "1970-01-01T00:00:01Z"}}]}"#)
    let examination = try examineStatus(document.root, classifier: StatusClassifier())
    let encoded = try #require(examination.summary.encode())
    defer { json_decref(encoded) }
    let text = String(decoding: try dumpToBytes(encoded), as: UTF8.self)
    let member = String(decoding: examination.summary.encodeBytes(), as: UTF8.self)
    #expect(member == #""summary":"# + text)
  }

  @Test func layoutOfNestedItems() {
    let text = Array(#"{"a": {"items": [1]}, "items": [{"x": "}{"}, {"y": [{}]}]}"#.utf8)
    let layout = text.withUnsafeBufferPointer { scanStatusLayout($0) }
    #expect(layout?.itemStarts == [32, 45])
  }

  @Test func layoutRejectsEscapedKey() {
    let text = Array(#"{"it\u0065ms": [{}]}"#.utf8)
    let layout = text.withUnsafeBufferPointer { scanStatusLayout($0) }
    #expect(layout?.itemStarts.isEmpty == true)
  }
}

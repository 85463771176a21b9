import Testing

@testable import OpStatus

/// Creates a request from plain values and returns the error, or nil when
/// it is accepted.
func requestFailure(namespace: String = "default", name: String = "cdn-1", id: Int64 = 1)
  -> OpStatusError?
{
  do throws(OpStatusError) {
    _ = try StatusRequest(namespace: namespace, name: name, serviceOperationID: id)
    return nil
  } catch {
    return error
  }
}

@Suite struct StatusRequestValidation {
  @Test func validRequest() throws {
    let request = try StatusRequest(namespace: "ns1", name: "cdn-1", serviceOperationID: 101)
    #expect(request.namespace == "ns1")
    #expect(request.name == "cdn-1")
    #expect(request.serviceOperationID == 101)
  }

  @Test func shortNamesAccepted() {
    #expect(requestFailure(namespace: "ns1", name: "cdn-1") == nil)
    #expect(requestFailure(namespace: "a", name: "b") == nil)
  }

  @Test func emptyNamespaceRejected() {
    let error = requestFailure(namespace: "")
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.hasPrefix("namespace is empty") == true)
  }

  @Test func emptyNameRejected() {
    let error = requestFailure(name: "")
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.hasPrefix("name is empty") == true)
  }

  @Test func maximumLengthAccepted() {
    #expect(requestFailure(name: String(repeating: "a", count: 1024)) == nil)
  }

  @Test func pastMaximumLengthRejected() {
    let error = requestFailure(name: String(repeating: "a", count: 1025))
    #expect(error?.code == .invalidArgument)
    #expect(error?.message == "name is 1025 bytes long; the limit is 1024 bytes")
  }

  @Test func lengthCountedInBytes() {
    // "é" is two bytes of UTF-8, so 513 of them are 1026 bytes.
    let error = requestFailure(namespace: String(repeating: "é", count: 513))
    #expect(error?.message == "namespace is 1026 bytes long; the limit is 1024 bytes")
  }

  @Test(arguments: ["\u{1}", "\n", "\u{7F}", "\u{85}", "\u{0}", "\u{9F}", "\t"])
  func controlCharacterRejected(character: String) {
    let error = requestFailure(name: "cdn\(character)1")
    #expect(error?.code == .invalidArgument)
  }

  @Test func controlCharacterNamed() {
    let error = requestFailure(name: "cdn\u{7F}1")
    #expect(error?.message == #"name "cdn\u{7f}1" contains the control character U+7F"#)
  }

  @Test func lineBreakEscapedInMessage() {
    let error = requestFailure(namespace: "a\nb")
    #expect(error?.message.contains("\n") == false)
  }

  @Test func nextLineEscapedInMessage() {
    // U+0085 is a C1 control character and a line break, so the message
    // must not carry it raw.
    let error = requestFailure(namespace: "a\u{85}b")
    #expect(error?.message.unicodeScalars.contains("\u{85}") == false)
  }

  @Test func nonASCIIAccepted() {
    #expect(requestFailure(name: "café-ünïcode") == nil)
  }

  @Test func negativeIDRejected() {
    let error = requestFailure(id: -1)
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.contains("-1") == true)
  }

  @Test func zeroIDAccepted() {
    #expect(requestFailure(id: 0) == nil)
  }

  @Test func maximumIDAccepted() {
    #expect(requestFailure(id: .max) == nil)
  }
}

@Suite struct StatusRequestJSON {
  @Test func validObject() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": "cdn-1", "service_op_id": 7}"#)
    let request = try result.get()
    #expect(request.namespace == "ns1")
    #expect(request.name == "cdn-1")
    #expect(request.serviceOperationID == 7)
  }

  @Test func idAsString() throws {
    let result = try decodeRequest(
      #"{"namespace": "ns1", "name": "cdn-1", "service_op_id": "9223372036854775807"}"#)
    #expect(try result.get().serviceOperationID == Int64.max)
  }

  @Test func unknownKeyRejected() throws {
    let result = try decodeRequest(
      #"{"namespace": "ns1", "name": "cdn-1", "service_op_id": 7, "nmae": "x"}"#)
    #expect(result.failure?.code == .invalidArgument)
    #expect(
      result.failure?.message.hasPrefix("request nmae: unknown key; expected one of: ") == true)
    #expect(result.failure?.message.contains("namespace, name, service_op_id") == true)
  }

  @Test func missingNamespaceRejected() throws {
    let result = try decodeRequest(#"{"name": "cdn-1", "service_op_id": 7}"#)
    #expect(result.failure?.message == "request namespace is missing; it is required")
  }

  @Test func missingNameRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "service_op_id": 7}"#)
    #expect(result.failure?.message == "request name is missing; it is required")
  }

  @Test func missingIDRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": "cdn-1"}"#)
    #expect(result.failure?.message == "request service_op_id is missing; it is required")
  }

  @Test func nullCountsAsMissing() throws {
    let result = try decodeRequest(#"{"namespace": null, "name": "cdn-1", "service_op_id": 7}"#)
    #expect(result.failure?.message == "request namespace is missing; it is required")
  }

  @Test func namespaceNumberRejected() throws {
    let result = try decodeRequest(#"{"namespace": 5, "name": "cdn-1", "service_op_id": 7}"#)
    #expect(result.failure?.code == .invalidArgument)
    #expect(result.failure?.message == "request namespace: expected a string, found 5")
  }

  @Test func nameArrayRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": ["a"], "service_op_id": 7}"#)
    #expect(result.failure?.message == "request name: expected a string, found an array")
  }

  @Test func idBoolRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": "cdn-1", "service_op_id": true}"#)
    #expect(
      result.failure?.message
        == "request service_op_id: expected a non-negative 64-bit integer as a number or a decimal string, found true"
    )
  }

  @Test func negativeIDRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": "cdn-1", "service_op_id": -3}"#)
    #expect(result.failure?.code == .invalidArgument)
  }

  @Test func fractionalIDRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": "cdn-1", "service_op_id": 1.5}"#)
    #expect(result.failure?.code == .invalidArgument)
  }

  @Test func emptyNameRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns1", "name": "", "service_op_id": 7}"#)
    #expect(result.failure?.message.hasPrefix("name is empty") == true)
  }

  @Test func controlCharacterRejected() throws {
    let result = try decodeRequest(#"{"namespace": "ns\u0001", "name": "a", "service_op_id": 7}"#)
    #expect(result.failure?.code == .invalidArgument)
  }

  @Test func arrayRejected() throws {
    let result = try decodeRequest(#"[{"namespace": "ns1"}]"#)
    #expect(result.failure?.message == "request (top level): expected an object, found an array")
  }

  @Test func bodyEncoding() throws {
    let request = try StatusRequest(namespace: "ns1", name: "cdn-1", serviceOperationID: 7)
    let body = String(decoding: try request.encodeBody(), as: UTF8.self)
    #expect(body == #"{"namespace":"ns1","name":"cdn-1","service_op_id":7}"#)
  }
}

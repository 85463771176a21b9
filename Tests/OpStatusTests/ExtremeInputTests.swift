import CJansson
import Testing

@testable import OpStatus

// Inputs at and past the limits, in process: each yields a result or an
// error with a known code, never a crash. The C program
// bindings/c/tests/test_extreme.c sends the same kinds of input through the
// emulator and the C API.

/// Runs a response body through the code that reads every API response:
/// a 200 response with that body, decoded as a status response.
func decodeStatusBody(_ body: [UInt8]) -> Result<ServiceOperationStatus, OpStatusError> {
  let sink = ResponseSink(limit: max(body.count, 1))
  sink.body = body
  let response = HTTPResponse(status: 200, sink: sink, elapsedMilliseconds: 0)
  do throws(OpStatusError) {
    let status = try decodeResponse(response, path: "/api/test") { (json) throws(JSONDecodingError) in
      try ServiceOperationStatus(json: json)
    }
    return .success(status)
  } catch {
    return .failure(error)
  }
}

func decodeStatusBody(_ text: String) -> Result<ServiceOperationStatus, OpStatusError> {
  decodeStatusBody(Array(text.utf8))
}

/// `{"items": [[[...]]]}` with `levels` levels of nesting in all.
func deeplyNestedItems(levels: Int) -> String {
  let arrays = levels - 1
  return #"{"items":"# + String(repeating: "[", count: arrays)
    + String(repeating: "]", count: arrays) + "}"
}

/// Reads a status request from a jansson object whose `name` is `name`.
func statusRequestNamed(_ name: JSONPointer) -> Result<StatusRequest, OpStatusError> {
  guard let object = json_object() else {
    return .failure(OpStatusError(.outOfMemory, "json_object failed"))
  }
  defer { json_decref(object) }
  json_object_set_new(object, "namespace", json_string("ns1"))
  json_object_set_new(object, "name", name)
  json_object_set_new(object, "service_op_id", json_integer(101))
  do throws(OpStatusError) {
    return .success(try StatusRequest(json: object))
  } catch {
    return .failure(error)
  }
}

@Suite struct IdentifierLengthLimits {
  @Test func name1024BytesAccepted() throws {
    let name = String(repeating: "a", count: 1024)
    let request = try StatusRequest(namespace: "ns1", name: name, serviceOperationID: 101)
    #expect(request.name.utf8.count == 1024)
  }

  @Test func name1025BytesInvalidArgument() {
    let name = String(repeating: "a", count: 1025)
    #expect(identifierFailure(name)?.code == .invalidArgument)
    #expect(identifierFailure(name)?.message.contains("1025 bytes") == true)
  }

  /// The limit counts UTF-8 bytes: 512 two-byte characters fit, one more
  /// byte does not.
  @Test func multibyteNameLimitInBytes() {
    let fits = String(repeating: "é", count: 512)
    #expect(identifierFailure(fits) == nil)
    #expect(identifierFailure(fits + "a")?.code == .invalidArgument)
  }

  @Test func namespace1025BytesInvalidArgument() throws {
    let namespace = String(repeating: "n", count: 1025)
    let result = try decodeRequest(
      #"{"namespace": ""# + namespace + #"", "name": "cdn-1", "service_op_id": 101}"#)
    #expect(result.failure?.code == .invalidArgument)
  }

  @Test func purgeAndListNames1024BytesAccepted() throws {
    let name = String(repeating: "b", count: 1024)
    let purge = try PurgeRequest(namespace: "ns1", name: name, target: .all, mode: .hard)
    let list = try ListRequest(namespace: name, name: name, selection: .lastN(1))
    #expect(purge.name == name)
    #expect(list.namespace == name)
  }

  @Test func purgeName1025BytesInvalidArgument() {
    let name = String(repeating: "b", count: 1025)
    #expect(throws: OpStatusError.self) {
      try PurgeRequest(namespace: "ns1", name: name, target: .all, mode: .hard)
    }
  }
}

@Suite struct LargeResponses {
  /// 100,000 items of F5's example values: each site purged 1024 bytes.
  @Test func hundredThousandItemsDecodeWithSummary() throws {
    let count = 100_000
    var text = #"{"items":["#
    text.reserveCapacity(count * 200)
    for index in 0..<count {
      if index > 0 { text += "," }
      text += #"{"service_op_id":101,"status":"success","purge":{"site":"cdn-"#
      text += String(index)
      text += #"","bytes_purged":"1024","start_time":"2019-09-23T12:32:11.733Z","#
      text += #""finish_time":"2019-09-23T12:32:12.000Z"}}"#
    }
    text += "]}"

    let status = try decodeStatusBody(text).get()
    let items = try #require(status.items)
    #expect(items.count == count)
    #expect(items.last?.purge?.site == "cdn-99999")

    let summary = StatusSummary(items: items, classifier: StatusClassifier())
    #expect(summary.sites == count)
    #expect(summary.succeeded == count)
    #expect(summary.failed == 0)
    #expect(summary.pending == 0)
    #expect(summary.state == .succeeded)
    #expect(summary.bytesPurged == 102_400_000)
    #expect(summary.earliestStart?.text == "2019-09-23T12:32:11.733Z")
    #expect(summary.latestFinish?.text == "2019-09-23T12:32:12.000Z")
    #expect(summary.itemStates.count == count)
  }

  @Test func bodyAtLimitAccepted() {
    let sink = ResponseSink(limit: 4096)
    let chunk = [UInt8](repeating: 0x20, count: 4095)
    #expect(chunk.withUnsafeBytes { sink.append($0) })
    #expect([UInt8(0x20)].withUnsafeBytes { sink.append($0) })
    #expect(sink.body.count == 4096)
    #expect(!sink.overflowed)
  }

  @Test func bodyOneByteOverLimitRejected() {
    let sink = ResponseSink(limit: 4096)
    let chunk = [UInt8](repeating: 0x20, count: 4096)
    #expect(chunk.withUnsafeBytes { sink.append($0) })
    #expect(![UInt8(0x20)].withUnsafeBytes { sink.append($0) })
    #expect(sink.overflowed)
  }

  @Test func contentLengthAtLimitAccepted() {
    let sink = ResponseSink(limit: 4096)
    let line = Array("Content-Length: 4096\r\n".utf8)
    #expect(line.withUnsafeBytes { sink.takeHeaderLine($0) })
    #expect(!sink.overflowed)
  }

  @Test func contentLengthOneOverLimitRejected() {
    let sink = ResponseSink(limit: 4096)
    let line = Array("Content-Length: 4097\r\n".utf8)
    #expect(!line.withUnsafeBytes { sink.takeHeaderLine($0) })
    #expect(sink.overflowed)
  }
}

@Suite struct DeepNesting {
  /// jansson 2.14 parses up to 2048 levels; the decoder then rejects the
  /// array where an item object belongs.
  @Test func nesting2048LevelsProtocolErrorFromDecoder() {
    let result = decodeStatusBody(deeplyNestedItems(levels: 2048))
    #expect(result.failure?.code == .protocolError)
    #expect(result.failure?.message.contains("unexpected response") == true)
  }

  @Test func nesting3000LevelsProtocolErrorFromParser() {
    let result = decodeStatusBody(deeplyNestedItems(levels: 3000))
    #expect(result.failure?.code == .protocolError)
    #expect(result.failure?.message.contains("not valid JSON") == true)
  }

  @Test func requestNesting3000LevelsInvalidArgument() {
    let text = deeplyNestedItems(levels: 3000)
    let code = text.withCString { pointer -> ResultCode? in
      do throws(OpStatusError) {
        _ = try parseCallerJSON(pointer, field: "request_json")
        return nil
      } catch {
        return error.code
      }
    }
    #expect(code == .invalidArgument)
  }
}

@Suite struct InvalidStrings {
  @Test func invalidUTF8InResponseProtocolError() {
    var body = Array(#"{"items":[{"status":"succ"#.utf8)
    body += [0xFF, 0xFE]
    body += Array(#"ess"}]}"#.utf8)
    #expect(decodeStatusBody(body).failure?.code == .protocolError)
  }

  @Test func truncatedUTF8SequenceProtocolError() {
    var body = Array(#"{"items":[{"status":"x"#.utf8)
    body += [0xE2, 0x82]
    body += Array(#""}]}"#.utf8)
    #expect(decodeStatusBody(body).failure?.code == .protocolError)
  }

  @Test func escapedNulInResponseProtocolError() {
    let result = decodeStatusBody(#"{"items":[{"purge":{"site":"cdn\u0000-1"}}]}"#)
    #expect(result.failure?.code == .protocolError)
  }

  /// A raw NUL byte inside a JSON string is a control character, which
  /// JSON does not allow unescaped.
  @Test func rawNulByteInResponseProtocolError() {
    var body = Array(#"{"items":[{"status":"a"#.utf8)
    body.append(0)
    body += Array(#"b"}]}"#.utf8)
    #expect(decodeStatusBody(body).failure?.code == .protocolError)
  }

  /// jansson alone would pass over a NUL byte after a number, and the
  /// result text, a C string, would end there.
  @Test func nulAfterNumberProtocolError() {
    var body = Array(#"{"items":[{"service_op_id":10"#.utf8)
    body.append(0)
    body += Array(#","status":"success"}]}"#.utf8)
    let failure = decodeStatusBody(body).failure
    #expect(failure?.code == .protocolError)
    #expect(failure?.message.contains("NUL byte") == true)
  }

  /// A caller may build a string with a NUL through json_stringn; the
  /// library rejects it instead of cutting the name at the NUL.
  @Test func nulInCallerStringInvalidArgument() {
    let bytes: [CChar] = Array("cdn\0-1".utf8).map { CChar(bitPattern: $0) }
    let name = bytes.withUnsafeBufferPointer { json_stringn($0.baseAddress, $0.count) }
    let result = statusRequestNamed(name!)
    #expect(result.failure?.code == .invalidArgument)
    #expect(result.failure?.message.contains("U+0") == true)
  }

  /// json_stringn_nocheck lets a caller store bytes that are not UTF-8.
  @Test func invalidUTF8InCallerStringInvalidArgument() {
    let bytes: [CChar] = [0x63, -1, 0x64]
    let name = bytes.withUnsafeBufferPointer { json_stringn_nocheck($0.baseAddress, $0.count) }
    let result = statusRequestNamed(name!)
    #expect(result.failure?.code == .invalidArgument)
    #expect(result.failure?.message.contains("UTF-8") == true)
  }
}

@Suite struct IntegerLimits {
  @Test func bytesUInt64MaxAccepted() throws {
    let status = try decodeStatusBody(
      #"{"items":[{"purge":{"bytes_purged":"18446744073709551615"}}]}"#
    ).get()
    #expect(status.items?.first?.purge?.bytesPurged == UInt64.max)
  }

  @Test func bytesUInt64MaxPlusOneProtocolError() {
    let result = decodeStatusBody(
      #"{"items":[{"purge":{"bytes_purged":"18446744073709551616"}}]}"#)
    #expect(result.failure?.code == .protocolError)
    #expect(result.failure?.message.contains("items[0].purge.bytes_purged") == true)
  }

  @Test func bytesNegativeNumberProtocolError() {
    let result = decodeStatusBody(#"{"items":[{"purge":{"bytes_not_purged":-1}}]}"#)
    #expect(result.failure?.code == .protocolError)
  }

  @Test func idInt64MaxAccepted() throws {
    let status = try decodeStatusBody(#"{"items":[{"service_op_id":9223372036854775807}]}"#).get()
    #expect(status.items?.first?.serviceOperationID == Int64.max)
  }

  /// jansson rejects the number while parsing, before the decoder reads it.
  @Test func idInt64MaxPlusOneNumberProtocolError() {
    let result = decodeStatusBody(#"{"items":[{"service_op_id":9223372036854775808}]}"#)
    #expect(result.failure?.code == .protocolError)
    #expect(result.failure?.message.contains("not valid JSON") == true)
  }

  @Test func idInt64MinMinusOneNumberProtocolError() {
    let result = decodeStatusBody(#"{"items":[{"service_op_id":-9223372036854775809}]}"#)
    #expect(result.failure?.code == .protocolError)
  }

  @Test func idInt64MaxPlusOneStringProtocolError() {
    let result = decodeStatusBody(#"{"items":[{"service_op_id":"9223372036854775808"}]}"#)
    #expect(result.failure?.code == .protocolError)
  }

  /// A real number past 2^63 cannot be an exact 64-bit id.
  @Test func idRealPastInt64ProtocolError() {
    let result = decodeStatusBody(#"{"items":[{"service_op_id":1e19}]}"#)
    #expect(result.failure?.code == .protocolError)
  }

  @Test func requestIdPastInt64InvalidArgument() throws {
    let result = try decodeRequest(
      #"{"namespace": "ns1", "name": "cdn-1", "service_op_id": "9223372036854775808"}"#)
    #expect(result.failure?.code == .invalidArgument)
  }
}

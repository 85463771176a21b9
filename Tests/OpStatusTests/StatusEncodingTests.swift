import CJansson
import Testing

@testable import OpStatus

/// A response with one item of every field, one item of no fields and an
/// error object.
let fullResponse = #"""
  {
    "items": [
      {
        "service_op_id": "101",
        "status": "success",
        "purge": {
          "site": "pa4-par",
          "bytes_purged": "18446744073709551615",
          "bytes_not_purged": "18446744073709551615",
          "hard_purge": true,
          "regexp": "^/img/",
          "start_time": "2019-09-23T14:32:11.733+02:00",
          "finish_time": "2019-09-23T12:32:15Z",
          "purge_time": "1569241932"
        }
      },
      {}
    ],
    "error": {
      "code": 8,
      "message": "1 of 2 sites reported",
      "error_obj": {"type_url": "type.example/Detail", "value": "AQI="}
    }
  }
  """#

/// Decodes `text`, encodes the result with its summary, and returns the
/// encoded value as an owned document.
func encodeRoundTrip(_ text: String) throws -> (ServiceOperationStatus, JSONDocument) {
  let status = try decodeStatus(text)
  let summary = StatusSummary(items: status.items ?? [], classifier: StatusClassifier())
  let encoded = try #require(status.encodeResult(summary: summary))
  return (status, JSONDocument(taking: encoded))
}

@Suite struct StatusEncoding {
  @Test func roundTripEqual() throws {
    let (status, document) = try encodeRoundTrip(fullResponse)
    let decoded = try withExtendedLifetime(document) {
      try ServiceOperationStatus(json: document.root)
    }
    #expect(decoded == status)
  }

  @Test func absentFieldsStayAbsent() throws {
    let (_, document) = try encodeRoundTrip(#"{"items": [{"purge": {"site": "a"}}]}"#)
    withExtendedLifetime(document) {
      let item = json_array_get(member(document.root, "items"), 0)
      let purge = member(item, "purge")
      #expect(member(item, "service_op_id") == nil)
      #expect(member(item, "status") == nil)
      #expect(stringValue(member(purge, "site")) == "a")
      #expect(json_object_size(purge) == 1)
    }
  }

  @Test func emptyItemGetsOnlyState() throws {
    let (_, document) = try encodeRoundTrip(#"{"items": [{}]}"#)
    withExtendedLifetime(document) {
      let item = json_array_get(member(document.root, "items"), 0)
      #expect(item != nil)
      #expect(json_object_size(item) == 1)
      #expect(stringValue(member(item, "state")) == "pending")
    }
  }

  @Test func itemStateFollowsClassifier() throws {
    let (_, document) = try encodeRoundTrip(
      #"{"items": [{"status": "Success"}, {"status": "failed"}, {"status": "queued"}]}"#)
    withExtendedLifetime(document) {
      let items = member(document.root, "items")
      #expect(stringValue(member(json_array_get(items, 0), "state")) == "succeeded")
      #expect(stringValue(member(json_array_get(items, 1), "state")) == "failed")
      #expect(stringValue(member(json_array_get(items, 2), "state")) == "pending")
    }
  }

  @Test func noErrorWithoutError() throws {
    let (_, document) = try encodeRoundTrip(#"{"items": []}"#)
    withExtendedLifetime(document) {
      #expect(member(document.root, "error") == nil)
    }
  }

  @Test func missingItemsBecomeEmptyArray() throws {
    let (_, document) = try encodeRoundTrip("{}")
    withExtendedLifetime(document) {
      let items = member(document.root, "items")
      #expect(items?.isArray == true)
      #expect(json_array_size(items) == 0)
    }
  }

  @Test func bytesAsDecimalStrings() throws {
    let (_, document) = try encodeRoundTrip(fullResponse)
    withExtendedLifetime(document) {
      let purge = member(json_array_get(member(document.root, "items"), 0), "purge")
      #expect(stringValue(member(purge, "bytes_purged")) == "18446744073709551615")
      #expect(stringValue(member(purge, "bytes_not_purged")) == "18446744073709551615")
    }
  }

  @Test func falseAndZeroKept() throws {
    let (_, document) = try encodeRoundTrip(
      #"{"items": [{"service_op_id": 0, "purge": {"hard_purge": false, "bytes_purged": "0"}}]}"#)
    withExtendedLifetime(document) {
      let item = json_array_get(member(document.root, "items"), 0)
      let purge = member(item, "purge")
      #expect(integerValue(member(item, "service_op_id")) == 0)
      #expect(member(purge, "hard_purge")?.pointee.type == JSON_FALSE)
      #expect(stringValue(member(purge, "bytes_purged")) == "0")
    }
  }

  @Test func serviceOpIDAsNumber() throws {
    let (_, document) = try encodeRoundTrip(fullResponse)
    withExtendedLifetime(document) {
      let item = json_array_get(member(document.root, "items"), 0)
      #expect(integerValue(member(item, "service_op_id")) == 101)
    }
  }

  @Test func timesAsSent() throws {
    let (_, document) = try encodeRoundTrip(fullResponse)
    withExtendedLifetime(document) {
      let purge = member(json_array_get(member(document.root, "items"), 0), "purge")
      #expect(stringValue(member(purge, "start_time")) == "2019-09-23T14:32:11.733+02:00")
      #expect(stringValue(member(purge, "purge_time")) == "1569241932")
    }
  }

  @Test func errorCodeNumberAsName() throws {
    let (_, document) = try encodeRoundTrip(fullResponse)
    withExtendedLifetime(document) {
      let error = member(document.root, "error")
      #expect(stringValue(member(error, "code")) == "EPARTIAL")
      #expect(stringValue(member(member(error, "error_obj"), "value")) == "AQI=")
    }
  }

  @Test func summaryKeys() throws {
    let (_, document) = try encodeRoundTrip(fullResponse)
    withExtendedLifetime(document) {
      let summary = member(document.root, "summary")
      #expect(stringValue(member(summary, "state")) == "pending")
      #expect(integerValue(member(summary, "sites")) == 2)
      #expect(integerValue(member(summary, "succeeded")) == 1)
      #expect(integerValue(member(summary, "failed")) == 0)
      #expect(integerValue(member(summary, "pending")) == 1)
      #expect(stringValue(member(summary, "bytes_purged")) == "18446744073709551615")
      #expect(stringValue(member(summary, "bytes_not_purged")) == "18446744073709551615")
      #expect(
        stringValue(member(summary, "earliest_start")) == "2019-09-23T14:32:11.733+02:00")
      #expect(stringValue(member(summary, "latest_finish")) == "2019-09-23T12:32:15Z")
      #expect(json_object_size(summary) == 9)
    }
  }

  @Test func summaryTimesNullWhenAbsent() throws {
    let (_, document) = try encodeRoundTrip(#"{"items": [{"status": "success"}]}"#)
    withExtendedLifetime(document) {
      let summary = member(document.root, "summary")
      #expect(member(summary, "earliest_start")?.isNull == true)
      #expect(member(summary, "latest_finish")?.isNull == true)
    }
  }

  @Test func summaryTotalPastUInt64() throws {
    let (_, document) = try encodeRoundTrip(
      #"""
      {"items": [
        {"purge": {"bytes_purged": "18446744073709551615"}},
        {"purge": {"bytes_purged": "18446744073709551615"}}
      ]}
      """#)
    withExtendedLifetime(document) {
      let summary = member(document.root, "summary")
      #expect(stringValue(member(summary, "bytes_purged")) == "36893488147419103230")
      #expect(stringValue(member(summary, "bytes_not_purged")) == "0")
    }
  }

  @Test func compactText() throws {
    let (_, document) = try encodeRoundTrip(#"{"items": [{"status": "done"}]}"#)
    let bytes = try withExtendedLifetime(document) { try dumpToBytes(document.root) }
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.hasPrefix(#"{"items":[{"status":"done","state":"succeeded"}],"summary":{"#))
  }
}

@Suite struct DecimalTextTests {
  @Test(arguments: [
    (UInt128(0), "0"), (UInt128(7), "7"), (UInt128(10), "10"),
    (UInt128(UInt64.max), "18446744073709551615"),
    (UInt128(UInt64.max) + 1, "18446744073709551616"),
    (UInt128.max, "340282366920938463463374607431768211455"),
  ])
  func unsignedValues(value: UInt128, expected: String) {
    var bytes: [UInt8] = Array("x".utf8)
    appendDecimal(value, to: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == "x" + expected)
  }

  @Test func negativeValue() {
    var bytes: [UInt8] = []
    appendDecimal(Int64.min, to: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == "-9223372036854775808")
  }
}

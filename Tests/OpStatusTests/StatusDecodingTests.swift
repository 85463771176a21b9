import Testing

@testable import OpStatus

/// Fields of `items[].purge`, each read on its own.
@Suite struct PurgeFieldDecoding {
  @Test func site() throws {
    let purge = try decodePurge(#""site": "pa4-par""#)
    #expect(purge?.site == "pa4-par")
  }

  @Test func bytesPurgedAsString() throws {
    let purge = try decodePurge(#""bytes_purged": "1048576""#)
    #expect(purge?.bytesPurged == 1_048_576)
  }

  @Test func bytesPurgedAsNumber() throws {
    let purge = try decodePurge(#""bytes_purged": 1048576"#)
    #expect(purge?.bytesPurged == 1_048_576)
  }

  @Test func bytesNotPurgedAsString() throws {
    let purge = try decodePurge(#""bytes_not_purged": "4096""#)
    #expect(purge?.bytesNotPurged == 4096)
  }

  @Test func bytesNotPurgedAsNumber() throws {
    let purge = try decodePurge(#""bytes_not_purged": 4096"#)
    #expect(purge?.bytesNotPurged == 4096)
  }

  @Test func hardPurgeTrue() throws {
    let purge = try decodePurge(#""hard_purge": true"#)
    #expect(purge?.hardPurge == true)
  }

  @Test func hardPurgeFalse() throws {
    let purge = try decodePurge(#""hard_purge": false"#)
    #expect(purge?.hardPurge == false)
  }

  @Test func regexp() throws {
    let purge = try decodePurge(#""regexp": "^/images/.*\\.png$""#)
    #expect(purge?.regexp == #"^/images/.*\.png$"#)
  }

  @Test func startTime() throws {
    let purge = try decodePurge(#""start_time": "2019-09-23T12:32:11.733Z""#)
    #expect(purge?.startTime?.text == "2019-09-23T12:32:11.733Z")
    #expect(purge?.startTime?.millisecondsSinceEpoch == 1_569_241_931_733)
  }

  @Test func finishTime() throws {
    let purge = try decodePurge(#""finish_time": "2019-09-23T12:32:15Z""#)
    #expect(purge?.finishTime?.text == "2019-09-23T12:32:15Z")
    #expect(purge?.finishTime?.millisecondsSinceEpoch == 1_569_241_935_000)
  }

  @Test func purgeTime() throws {
    let purge = try decodePurge(#""purge_time": "1569241932""#)
    #expect(purge?.purgeTime?.text == "1569241932")
    #expect(purge?.purgeTime?.millisecondsSinceEpoch == 1_569_241_932_000)
  }

  @Test func emptyTimeIsAbsent() throws {
    let purge = try decodePurge(#""start_time": """#)
    #expect(purge != nil)
    #expect(purge?.startTime == nil)
  }

  @Test func invalidTimeRejected() throws {
    let message = try decodingFailure(
      #"{"items": [{"purge": {"finish_time": "yesterday"}}]}"#)
    #expect(
      message
        == #"items[0].purge.finish_time: expected an RFC 3339 time or a unix timestamp, found "yesterday""#
    )
  }

  @Test func allFieldsTogether() throws {
    let purge = try decodePurge(
      #"""
      "site": "ny8-nyc", "bytes_purged": "10", "bytes_not_purged": "2",
      "hard_purge": false, "regexp": ".*", "start_time": "2019-09-23T12:32:11Z",
      "finish_time": "2019-09-23T12:32:12Z", "purge_time": "2019-09-23T12:32:13Z"
      """#)
    var expected = PurgeOperationItem()
    expected.site = "ny8-nyc"
    expected.bytesPurged = 10
    expected.bytesNotPurged = 2
    expected.hardPurge = false
    expected.regexp = ".*"
    expected.startTime = Timestamp("2019-09-23T12:32:11Z")
    expected.finishTime = Timestamp("2019-09-23T12:32:12Z")
    expected.purgeTime = Timestamp("2019-09-23T12:32:13Z")
    #expect(purge == expected)
  }
}

/// Fields of `items[]` outside `purge`.
@Suite struct ItemFieldDecoding {
  @Test func serviceOpIDAsNumber() throws {
    let item = try decodeItem(#""service_op_id": 101"#)
    #expect(item?.serviceOperationID == 101)
  }

  @Test func serviceOpIDAsString() throws {
    let item = try decodeItem(#""service_op_id": "101""#)
    #expect(item?.serviceOperationID == 101)
  }

  @Test func serviceOpIDMaximum() throws {
    let item = try decodeItem(#""service_op_id": "9223372036854775807""#)
    #expect(item?.serviceOperationID == Int64.max)
  }

  @Test func serviceOpIDPastMaximumRejected() throws {
    let message = try decodingFailure(
      #"{"items": [{"service_op_id": "9223372036854775808"}]}"#)
    #expect(
      message
        == #"items[0].service_op_id: expected a non-negative 64-bit integer as a number or a decimal string, found "9223372036854775808""#
    )
  }

  @Test func status() throws {
    let item = try decodeItem(#""status": "success""#)
    #expect(item?.status == "success")
  }

  @Test func purgeObject() throws {
    let item = try decodeItem(#""purge": {"site": "pa4-par"}"#)
    #expect(item?.purge?.site == "pa4-par")
  }

  @Test func itemsInOrder() throws {
    let status = try decodeStatus(
      #"{"items": [{"status": "a"}, {"status": "b"}, {"status": "c"}]}"#)
    #expect(status.items?.map(\.status) == ["a", "b", "c"])
  }

  @Test func emptyItemsArray() throws {
    let status = try decodeStatus(#"{"items": []}"#)
    #expect(status.items == [])
  }
}

/// The `error` object and its `error_obj` detail.
@Suite struct ErrorFieldDecoding {
  @Test func codeAsString() throws {
    let detail = try decodeErrorDetail(#""code": "EPERMS""#)
    #expect(detail?.code == "EPERMS")
  }

  @Test func codeAsNumber() throws {
    let detail = try decodeErrorDetail(#""code": 3"#)
    #expect(detail?.code == "ENOTFOUND")
  }

  @Test func codeNumbersMapToNames() throws {
    let names = [
      "EOK", "EPERMS", "EBADINPUT", "ENOTFOUND", "EEXISTS", "EUNKNOWN", "ESERIALIZE",
      "EINTERNAL", "EPARTIAL",
    ]
    for (number, name) in names.enumerated() {
      let detail = try decodeErrorDetail(#""code": \#(number)"#)
      #expect(detail?.code == name, "code \(number)")
    }
  }

  @Test func codeOfWrongTypeRejected() throws {
    let message = try decodingFailure(#"{"error": {"code": true}}"#)
    #expect(
      message == #"error.code: expected an error code string such as "EOK", found true"#)
  }

  @Test func message() throws {
    let detail = try decodeErrorDetail(#""message": "2 of 3 sites reported""#)
    #expect(detail?.message == "2 of 3 sites reported")
  }

  @Test func errorObjTypeURL() throws {
    let detail = try decodeErrorDetail(
      #""error_obj": {"type_url": "type.googleapis.com/google.rpc.Status"}"#)
    #expect(detail?.detailTypeURL == "type.googleapis.com/google.rpc.Status")
  }

  @Test func errorObjValue() throws {
    let detail = try decodeErrorDetail(#""error_obj": {"value": "CAUSEAo="}"#)
    #expect(detail?.detailValue == "CAUSEAo=")
  }

  @Test func errorObjWrongTypeRejected() throws {
    let message = try decodingFailure(#"{"error": {"error_obj": {"type_url": 1}}}"#)
    #expect(message == "error.error_obj.type_url: expected a string, found 1")
  }

  @Test func errorWithItems() throws {
    let status = try decodeStatus(
      #"{"items": [{"status": "success"}], "error": {"code": "EPARTIAL"}}"#)
    #expect(status.items?.count == 1)
    #expect(status.error?.code == "EPARTIAL")
  }
}

/// Integers in their number and string forms and at their limits.
@Suite struct IntegerDecoding {
  @Test func uint64MaximumExact() throws {
    let purge = try decodePurge(#""bytes_purged": "18446744073709551615""#)
    #expect(purge?.bytesPurged == UInt64.max)
  }

  @Test func uint64PastMaximumRejected() throws {
    let message = try decodingFailure(
      #"{"items": [{"purge": {"bytes_purged": "18446744073709551616"}}]}"#)
    #expect(
      message
        == #"items[0].purge.bytes_purged: expected an unsigned 64-bit integer as a decimal string, found "18446744073709551616""#
    )
  }

  @Test func numberPastInt64RejectedByParser() {
    // jansson stores numbers as signed 64-bit values, so the string form is
    // the only way to send the top half of the unsigned range.
    #expect(throws: TestJSONError.self) {
      try parseJSON(#"{"bytes_purged": 18446744073709551615}"#)
    }
  }

  @Test func negativeBytesNumberRejected() throws {
    let message = try decodingFailure(
      #"{"items": [{"purge": {"bytes_purged": -1}}]}"#)
    #expect(
      message
        == "items[0].purge.bytes_purged: expected an unsigned 64-bit integer as a decimal string, found -1"
    )
  }

  @Test func negativeBytesStringRejected() throws {
    let message = try decodingFailure(
      #"{"items": [{"purge": {"bytes_not_purged": "-1"}}]}"#)
    #expect(
      message
        == #"items[0].purge.bytes_not_purged: expected an unsigned 64-bit integer as a decimal string, found "-1""#
    )
  }

  @Test func negativeIDNumberRejected() throws {
    let message = try decodingFailure(#"{"items": [{"service_op_id": -5}]}"#)
    #expect(
      message
        == "items[0].service_op_id: expected a non-negative 64-bit integer as a number or a decimal string, found -5"
    )
  }

  @Test func negativeIDStringRejected() throws {
    let message = try decodingFailure(#"{"items": [{"service_op_id": "-5"}]}"#)
    #expect(message != nil)
  }

  @Test func integralRealAccepted() throws {
    let purge = try decodePurge(#""bytes_purged": 5.0"#)
    #expect(purge?.bytesPurged == 5)
  }

  @Test func integralRealIDAccepted() throws {
    let item = try decodeItem(#""service_op_id": 5.0"#)
    #expect(item?.serviceOperationID == 5)
  }

  @Test func exponentRealAccepted() throws {
    let purge = try decodePurge(#""bytes_purged": 1e3"#)
    #expect(purge?.bytesPurged == 1000)
  }

  @Test func fractionalRealRejected() throws {
    let message = try decodingFailure(#"{"items": [{"purge": {"bytes_purged": 5.5}}]}"#)
    #expect(
      message
        == "items[0].purge.bytes_purged: expected an unsigned 64-bit integer as a decimal string, found the number 5.5"
    )
  }

  @Test func fractionalRealIDRejected() throws {
    let message = try decodingFailure(#"{"items": [{"service_op_id": 5.5}]}"#)
    #expect(message != nil)
  }

  @Test func negativeRealRejected() throws {
    let message = try decodingFailure(#"{"items": [{"purge": {"bytes_purged": -1.0}}]}"#)
    #expect(message != nil)
  }

  @Test func malformedStringsRejected() throws {
    for text in ["", " 5", "5 ", "+5", "0x10", "1e3", "5.0", "١٢"] {
      let json = #"{"items": [{"purge": {"bytes_purged": "\#(text)"}}]}"#
      let message = try decodingFailure(json)
      #expect(message != nil, "bytes_purged \"\(text)\"")
    }
  }

  @Test func leadingZerosAccepted() throws {
    let purge = try decodePurge(#""bytes_purged": "007""#)
    #expect(purge?.bytesPurged == 7)
  }
}

/// Values of the wrong JSON type, reported with the path to them.
@Suite struct WrongTypeDecoding {
  @Test func bytesPurgedTrue() throws {
    let message = try decodingFailure(
      #"{"items": [{}, {}, {}, {"purge": {"bytes_purged": true}}]}"#)
    #expect(
      message
        == "items[3].purge.bytes_purged: expected an unsigned 64-bit integer as a decimal string, found true"
    )
  }

  @Test func itemsObject() throws {
    let message = try decodingFailure(#"{"items": {"status": "success"}}"#)
    #expect(message == "items: expected an array, found an object")
  }

  @Test func itemNotObject() throws {
    let message = try decodingFailure(#"{"items": [{}, "success"]}"#)
    #expect(message == #"items[1]: expected an object, found "success""#)
  }

  @Test func purgeString() throws {
    let message = try decodingFailure(#"{"items": [{"purge": "done"}]}"#)
    #expect(message == #"items[0].purge: expected an object, found "done""#)
  }

  @Test func statusNumber() throws {
    let message = try decodingFailure(#"{"items": [{}, {"status": 2}]}"#)
    #expect(message == "items[1].status: expected a string, found 2")
  }

  @Test func hardPurgeYes() throws {
    let message = try decodingFailure(#"{"items": [{"purge": {"hard_purge": "yes"}}]}"#)
    #expect(message == #"items[0].purge.hard_purge: expected true or false, found "yes""#)
  }

  @Test func siteArray() throws {
    let message = try decodingFailure(#"{"items": [{"purge": {"site": ["a"]}}]}"#)
    #expect(message == "items[0].purge.site: expected a string, found an array")
  }

  @Test func errorString() throws {
    let message = try decodingFailure(#"{"error": "EPERMS"}"#)
    #expect(message == #"error: expected an object, found "EPERMS""#)
  }

  @Test func topLevelArray() throws {
    let message = try decodingFailure(#"[{"items": []}]"#)
    #expect(message == "(top level): expected an object, found an array")
  }

  @Test func topLevelScalarRejectedByParser() {
    #expect(throws: TestJSONError.self) {
      try parseJSON(#""items""#)
    }
  }
}

/// Absent, null and unknown fields.
@Suite struct MissingAndUnknownFields {
  @Test func emptyObjectHasNoItems() throws {
    let status = try decodeStatus("{}")
    #expect(status.items == nil)
    #expect(status.error == nil)
  }

  @Test func missingPurgeFieldsStayNil() throws {
    let purge = try decodePurge("")
    #expect(purge == PurgeOperationItem())
    #expect(purge?.bytesPurged == nil)
    #expect(purge?.bytesNotPurged == nil)
    #expect(purge?.site == nil)
    #expect(purge?.hardPurge == nil)
  }

  @Test func missingItemFieldsStayNil() throws {
    let item = try decodeItem("")
    #expect(item?.serviceOperationID == nil)
    #expect(item?.status == nil)
    #expect(item?.purge == nil)
  }

  @Test func missingErrorFieldsStayNil() throws {
    let detail = try decodeErrorDetail("")
    #expect(detail == APIErrorDetail())
  }

  @Test func nullPurgeFieldsAbsent() throws {
    let purge = try decodePurge(
      #"""
      "site": null, "bytes_purged": null, "bytes_not_purged": null,
      "hard_purge": null, "regexp": null, "start_time": null,
      "finish_time": null, "purge_time": null
      """#)
    #expect(purge == PurgeOperationItem())
  }

  @Test func nullItemFieldsAbsent() throws {
    let item = try decodeItem(#""service_op_id": null, "status": null, "purge": null"#)
    #expect(item == ServiceOperationItem())
  }

  @Test func nullTopLevelFieldsAbsent() throws {
    let status = try decodeStatus(#"{"items": null, "error": null}"#)
    #expect(status == ServiceOperationStatus())
  }

  @Test func nullErrorFieldsAbsent() throws {
    let detail = try decodeErrorDetail(#""code": null, "message": null, "error_obj": null"#)
    #expect(detail == APIErrorDetail())
  }

  @Test func unknownFieldsIgnored() throws {
    let status = try decodeStatus(
      #"""
      {
        "items": [{
          "status": "success", "region": "eu", "tags": [1, {"a": null}],
          "purge": {"site": "pa4-par", "tier": {"name": "edge"}}
        }],
        "error": {
          "code": "EOK", "retry": true,
          "error_obj": {"type_url": "t", "extra": [], "value": "v"}
        },
        "metadata": {"uid": "x"}, "next_page": 2
      }
      """#)
    #expect(status.items?.first?.status == "success")
    #expect(status.items?.first?.purge?.site == "pa4-par")
    #expect(status.error?.code == "EOK")
    #expect(status.error?.detailTypeURL == "t")
    #expect(status.error?.detailValue == "v")
  }
}

/// The response parser itself.
@Suite struct ResponseParsing {
  @Test func duplicateKeysRejected() {
    #expect(throws: TestJSONError.self) {
      try parseJSON(#"{"items": [], "items": []}"#)
    }
  }

  @Test func nestedDuplicateKeysRejected() {
    #expect(throws: TestJSONError.self) {
      try parseJSON(#"{"items": [{"status": "success", "status": "failed"}]}"#)
    }
  }

  @Test func duplicateKeysRejectedFromCString() {
    let result = #"{"name": "a", "name": "b"}"#.withCString { JSONDocument.parse($0) }
    #expect(result.failure != nil)
  }

  @Test func emptyBufferRejected() {
    let result = [UInt8]().withUnsafeBytes { JSONDocument.parse($0) }
    #expect(result.failure != nil)
  }

  @Test func parseErrorNamesPosition() {
    let result = "{\n  \"items\": [,]\n}".withCString { JSONDocument.parse($0) }
    #expect(result.failure?.line == 2)
  }
}

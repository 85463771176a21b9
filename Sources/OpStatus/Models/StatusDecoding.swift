import CJansson

/// Decoding of status responses from jansson values.
///
/// Unknown fields are ignored, so that fields a newer server adds do not
/// break older clients. Fields of the wrong type fail with the path to them.
extension ServiceOperationStatus {
  init(json: JSONPointer) throws(JSONDecodingError) {
    let reader = try JSONObjectReader(json)

    if let itemsArray = try reader.array("items") {
      var items: [ServiceOperationItem] = []
      items.reserveCapacity(itemsArray.count)
      for (index, element) in itemsArray {
        do {
          items.append(try ServiceOperationItem(json: element))
        } catch {
          throw error.prefixed([.key("items"), .index(index)])
        }
      }
      self.items = items
    }

    if let errorReader = try reader.object("error") {
      do {
        error = try APIErrorDetail(reader: errorReader)
      } catch {
        throw error.prefixed(.key("error"))
      }
    }
  }
}

extension ServiceOperationItem {
  init(json: JSONPointer) throws(JSONDecodingError) {
    let reader = try JSONObjectReader(json)
    serviceOperationID = try reader.nonNegativeInt64("service_op_id")
    status = try reader.string("status")
    if let purgeReader = try reader.object("purge") {
      do {
        purge = try PurgeOperationItem(reader: purgeReader)
      } catch {
        throw error.prefixed(.key("purge"))
      }
    }
  }
}

extension PurgeOperationItem {
  init(reader: JSONObjectReader) throws(JSONDecodingError) {
    site = try reader.string("site")
    bytesPurged = try reader.uint64("bytes_purged")
    bytesNotPurged = try reader.uint64("bytes_not_purged")
    hardPurge = try reader.bool("hard_purge")
    regexp = try reader.string("regexp")
    startTime = try readTimestamp(reader, "start_time")
    finishTime = try readTimestamp(reader, "finish_time")
    purgeTime = try readTimestamp(reader, "purge_time")
  }
}

extension APIErrorDetail {
  init(reader: JSONObjectReader) throws(JSONDecodingError) {
    message = try reader.string("message")

    if let codeValue = reader.value("code") {
      if codeValue.isString {
        code = codeValue.stringValue
      } else if codeValue.isInteger {
        let number = Int(truncatingIfNeeded: json_integer_value(codeValue))
        let known = APIErrorDetail.codesByNumber
        code = known.indices.contains(number) ? known[number] : "E\(number)"
      } else {
        throw JSONDecodingError(
          "expected an error code string such as \"EOK\", found \(codeValue.shortDescription)",
          at: [.key("code")])
      }
    }

    if let detail = try reader.object("error_obj") {
      do {
        detailTypeURL = try detail.string("type_url")
        detailValue = try detail.string("value")
      } catch {
        throw error.prefixed(.key("error_obj"))
      }
    }
  }
}

/// Reads a time field. An empty string counts as absent, because protobuf
/// gateways write unset strings that way.
func readTimestamp(_ reader: JSONObjectReader, _ key: StaticString) throws(JSONDecodingError)
  -> Timestamp?
{
  guard let text = try reader.string(key), !text.isEmpty else { return nil }
  guard let timestamp = Timestamp(text) else {
    throw JSONDecodingError(
      "expected an RFC 3339 time or a unix timestamp, found \(quoteForMessage(text))",
      at: [.key("\(key)")])
  }
  return timestamp
}

import CJansson

/// One operation in a list response (`common_cdnServiceOperationsItem`).
struct ServiceOperationSummaryItem: Sendable, Equatable {
  var serviceOperationID: Int64?
  var serviceVersion: Int64?
  var createdTime: Timestamp?
  var modifiedTime: Timestamp?
}

/// A list-service-operations-status response
/// (`common_cdnListServiceOperationsRsp`).
struct ServiceOperationList: Sendable, Equatable {
  var items: [ServiceOperationSummaryItem]?
  var error: APIErrorDetail?

  init(json: JSONPointer) throws(JSONDecodingError) {
    let reader = try JSONObjectReader(json)
    if let array = try reader.array("items") {
      var items: [ServiceOperationSummaryItem] = []
      items.reserveCapacity(array.count)
      for (index, element) in array {
        do {
          let itemReader = try JSONObjectReader(element)
          items.append(
            ServiceOperationSummaryItem(
              serviceOperationID: try itemReader.nonNegativeInt64("service_op_id"),
              serviceVersion: try itemReader.nonNegativeInt64("svc_version"),
              createdTime: try readTimestamp(itemReader, "created_time"),
              modifiedTime: try readTimestamp(itemReader, "modified_time")))
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

  /// Encodes the result in the spec's shape. Absent fields stay out.
  func encode() -> JSONPointer? {
    guard let array = json_array() else { return nil }
    for item in items ?? [] {
      var builder = JSONObjectBuilder()
      builder.set("service_op_id", integer: item.serviceOperationID)
      builder.set("svc_version", integer: item.serviceVersion)
      builder.set("created_time", string: item.createdTime?.text)
      builder.set("modified_time", string: item.modifiedTime?.text)
      guard let encoded = builder.finish(), json_array_append_new(array, encoded) == 0 else {
        json_decref(array)
        return nil
      }
    }
    var root = JSONObjectBuilder()
    root.set("items", array)
    if let error {
      root.set("error", error.encode())
    }
    return root.finish()
  }
}

/// A cache-purge response (`common_cdnLilacCDNCachePurgeResponse`).
struct PurgeResponse: Sendable, Equatable {
  /// The operation id to ask the status of.
  var purgeRequestID: Int64

  init(json: JSONPointer) throws(JSONDecodingError) {
    let reader = try JSONObjectReader(json)
    guard let id = try reader.nonNegativeInt64("purge_request_id") else {
      throw JSONDecodingError("missing; the purge response must carry the operation id",
        at: [.key("purge_request_id")])
    }
    purgeRequestID = id
  }

  func encode() -> JSONPointer? {
    var builder = JSONObjectBuilder()
    builder.set("purge_request_id", integer: purgeRequestID)
    return builder.finish()
  }
}

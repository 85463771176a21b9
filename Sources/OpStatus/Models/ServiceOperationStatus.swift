/// What one site reported about a purge (`common_cdnPurgeOperationItem`).
///
/// Every field is optional because the API may leave any of them out, and
/// a field the server left out stays nil.
struct PurgeOperationItem: Sendable, Equatable {
  var site: String?
  var bytesPurged: UInt64?
  var bytesNotPurged: UInt64?
  var hardPurge: Bool?
  /// The regular expression the purge used, if it used one.
  var regexp: String?
  var startTime: Timestamp?
  var finishTime: Timestamp?
  /// The time the purge took effect; a time string in the spec.
  var purgeTime: Timestamp?

  init() {}
}

/// One site's entry in a status response (`common_cdnServiceOperationItem`).
struct ServiceOperationItem: Sendable, Equatable {
  var serviceOperationID: Int64?
  /// The site's status word, such as `success`. The API defines no list of
  /// values.
  var status: String?
  var purge: PurgeOperationItem?

  init() {}
}

/// The `error` object of a response (`schemaErrorType`).
struct APIErrorDetail: Sendable, Equatable {
  /// One of `EOK`, `EPERMS`, `EBADINPUT`, `ENOTFOUND`, `EEXISTS`,
  /// `EUNKNOWN`, `ESERIALIZE`, `EINTERNAL`, `EPARTIAL`, or a code that a
  /// newer server added.
  var code: String?
  var message: String?
  /// `error_obj.type_url` and `error_obj.value` (base64) of the
  /// `protobuf.Any` detail.
  var detailTypeURL: String?
  var detailValue: String?

  init() {}

  /// The error codes in the order of their protobuf numbers, for servers
  /// that send the enum as a number.
  static let codesByNumber = [
    "EOK", "EPERMS", "EBADINPUT", "ENOTFOUND", "EEXISTS", "EUNKNOWN", "ESERIALIZE",
    "EINTERNAL", "EPARTIAL",
  ]
}

/// A response to get-service-operation-status
/// (`common_cdnGetServiceOperationRsp`).
struct ServiceOperationStatus: Sendable, Equatable {
  /// One entry per site that has reported. nil when the response had no
  /// `items` field, which protobuf's JSON mapping uses for an empty list.
  var items: [ServiceOperationItem]?
  var error: APIErrorDetail?

  init(items: [ServiceOperationItem]? = nil, error: APIErrorDetail? = nil) {
    self.items = items
    self.error = error
  }
}

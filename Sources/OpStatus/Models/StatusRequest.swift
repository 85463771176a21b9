import CJansson
import Glibc

/// A get-service-operation-status request (`common_cdnGetServiceOperationReq`).
struct StatusRequest: Sendable, Equatable {
  var namespace: String
  /// The load balancer's name.
  var name: String
  var serviceOperationID: Int64
  /// The load balancer kind; nil means the client's `resource_kind`.
  var kind: ResourceKind?

  /// Creates a request after checking every field, so that nothing invalid
  /// is ever sent.
  init(namespace: String, name: String, serviceOperationID: Int64, kind: ResourceKind? = nil)
    throws(OpStatusError)
  {
    try validateIdentifier(namespace, field: "namespace")
    try validateIdentifier(name, field: "name")
    if serviceOperationID < 0 {
      throw .invalidArgument(
        "service_op_id is \(serviceOperationID); operation ids are non-negative")
    }
    self.namespace = namespace
    self.name = name
    self.serviceOperationID = serviceOperationID
    self.kind = kind
  }

  static let knownKeys = ["namespace", "name", "service_op_id", "kind"]

  /// Reads a request that a caller gave as a JSON object. Unknown keys are
  /// rejected, because a misspelt key would otherwise be dropped silently.
  init(json: JSONPointer, allowing extraKeys: [String] = []) throws(OpStatusError) {
    let namespace: String?
    let name: String?
    let id: Int64?
    let kind: ResourceKind?
    do {
      let reader = try JSONObjectReader(json)
      try reader.rejectUnknownKeys(StatusRequest.knownKeys + extraKeys)
      namespace = try reader.string("namespace")
      name = try reader.string("name")
      id = try reader.nonNegativeInt64("service_op_id")
      kind = try readResourceKind(reader)
    } catch {
      throw .invalidArgument("request \(error.pathText): \(error.problem)")
    }

    guard let namespace else {
      throw .invalidArgument("request namespace is missing; it is required")
    }
    guard let name else {
      throw .invalidArgument("request name is missing; it is required")
    }
    guard let id else {
      throw .invalidArgument("request service_op_id is missing; it is required")
    }
    try self.init(namespace: namespace, name: name, serviceOperationID: id, kind: kind)
  }

  /// The request body as compact JSON text, written directly since it is
  /// sent on every call and has a fixed shape.
  func encodeBody() throws(OpStatusError) -> [UInt8] {
    var body: [UInt8] = []
    body.reserveCapacity(namespace.utf8.count + name.utf8.count + 64)
    body.append(contentsOf: #"{"namespace":"#.utf8)
    appendJSONString(&body, namespace)
    body.append(contentsOf: #","name":"#.utf8)
    appendJSONString(&body, name)
    body.append(contentsOf: #","service_op_id":"#.utf8)
    appendDecimal(serviceOperationID, to: &body)
    body.append(UInt8(ascii: "}"))
    return body
  }
}

/// Appends `text` as a JSON string: quotes around it, and escapes for the
/// quote, the backslash and control characters.
func appendJSONString(_ bytes: inout [UInt8], _ text: String) {
  func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
  }
  bytes.append(UInt8(ascii: "\""))
  for byte in text.utf8 {
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"):
      bytes.append(UInt8(ascii: "\\"))
      bytes.append(byte)
    case 0..<0x20:
      bytes.append(contentsOf: #"\u00"#.utf8)
      bytes.append(hexDigit(byte >> 4))
      bytes.append(hexDigit(byte & 0x0F))
    default:
      bytes.append(byte)
    }
  }
  bytes.append(UInt8(ascii: "\""))
}

/// Serialises a value to compact JSON bytes.
func dumpToBytes(_ value: JSONPointer) throws(OpStatusError) -> [UInt8] {
  guard let text = dumpJSON(value) else {
    throw OpStatusError(.outOfMemory, "could not serialise JSON")
  }
  defer { free(text) }
  let length = strlen(text)
  return text.withMemoryRebound(to: UInt8.self, capacity: length) {
    Array(UnsafeBufferPointer(start: $0, count: length))
  }
}

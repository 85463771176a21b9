import CJansson

/// Target of a purge: the spec's one-of group `pattern_type`.
enum PurgeTarget: Sendable, Equatable {
  /// One URL path, such as `/images/logo.png`.
  case url(String)
  /// A PCRE regular expression of 1 to 256 characters.
  case pattern(String)
  /// Everything cached for one host name.
  case hostname(String)
  /// Everything in the load balancer's cache.
  case all
}

/// Mode of a purge: the spec's one-of group `purge_type`.
enum PurgeMode: String, Sendable, Equatable {
  /// Removes the content from the cache.
  case hard = "hard_purge"
  /// Marks the content expired, so that the next request revalidates it
  /// with the origin.
  case soft = "soft_purge"
}

/// A cache-purge request (`common_cdnLilacCDNCachePurgeRequest`) and the
/// load balancer it goes to.
struct PurgeRequest: Sendable, Equatable {
  var namespace: String
  var name: String
  var kind: ResourceKind?
  var target: PurgeTarget
  var mode: PurgeMode

  /// Longest URL path accepted, in bytes.
  static let maxURLBytes = 8192
  /// Pattern length limits of the spec, in characters.
  static let patternLengths = 1...256

  init(namespace: String, name: String, kind: ResourceKind? = nil, target: PurgeTarget,
       mode: PurgeMode) throws(OpStatusError) {
    try validateIdentifier(namespace, field: "namespace")
    try validateIdentifier(name, field: "name")
    try PurgeRequest.validate(target)
    self.namespace = namespace
    self.name = name
    self.kind = kind
    self.target = target
    self.mode = mode
  }

  static func validate(_ target: PurgeTarget) throws(OpStatusError) {
    switch target {
    case .url(let path):
      guard path.hasPrefix("/") else {
        throw .invalidArgument(
          "url \(quoteForMessage(path)) is not a path; give the path of the cached URL, "
            + "starting with /, such as /images/logo.png")
      }
      guard path.utf8.count <= maxURLBytes else {
        throw .invalidArgument("url is \(path.utf8.count) bytes long; the limit is \(maxURLBytes)")
      }
      try rejectControlCharacters(path, field: "url")
    case .pattern(let pattern):
      let length = pattern.unicodeScalars.count
      guard patternLengths.contains(length) else {
        throw .invalidArgument(
          "pattern is \(length) characters long; it must have 1 to 256 characters")
      }
      try rejectControlCharacters(pattern, field: "pattern")
    case .hostname(let host):
      guard isDomainName(host) else {
        throw .invalidArgument(
          "hostname \(quoteForMessage(host)) is not a domain name such as www.example.com "
            + "or *.example.com")
      }
    case .all:
      break
    }
  }

  static let knownKeys = [
    "namespace", "name", "kind", "url", "pattern", "hostname", "purge_all", "hard_purge",
    "soft_purge",
  ]

  /// Reads a purge request that a caller gave as a JSON object: the spec's
  /// body plus `namespace`, `name` and optionally `kind`. `purge_all`,
  /// `hard_purge` and `soft_purge` take `{}` as in the spec, or `true`.
  init(json: JSONPointer) throws(OpStatusError) {
    let reader: JSONObjectReader
    var targets: [PurgeTarget] = []
    var modes: [PurgeMode] = []
    let namespace: String?
    let name: String?
    let kind: ResourceKind?
    do {
      reader = try JSONObjectReader(json)
      try reader.rejectUnknownKeys(PurgeRequest.knownKeys)
      namespace = try reader.string("namespace")
      name = try reader.string("name")
      kind = try readResourceKind(reader)
      if let url = try reader.string("url") { targets.append(.url(url)) }
      if let pattern = try reader.string("pattern") { targets.append(.pattern(pattern)) }
      if let host = try reader.string("hostname") { targets.append(.hostname(host)) }
      if try readEmptyMarker(reader, "purge_all") { targets.append(.all) }
      if try readEmptyMarker(reader, "hard_purge") { modes.append(.hard) }
      if try readEmptyMarker(reader, "soft_purge") { modes.append(.soft) }
    } catch {
      throw .invalidArgument("request \(error.pathText): \(error.problem)")
    }

    guard let namespace else { throw .invalidArgument("request namespace is missing; it is required") }
    guard let name else { throw .invalidArgument("request name is missing; it is required") }
    guard targets.count == 1, let target = targets.first else {
      throw .invalidArgument(
        "request must set exactly one of url, pattern, hostname and purge_all; "
          + "\(targets.count) are set")
    }
    guard modes.count == 1, let mode = modes.first else {
      throw .invalidArgument(
        "request must set exactly one of hard_purge and soft_purge; \(modes.count) are set")
    }
    try self.init(namespace: namespace, name: name, kind: kind, target: target, mode: mode)
  }

  /// Returns the request body in the spec's shape, such as
  /// `{"url": "/x", "hard_purge": {}}`.
  func encodeBody() throws(OpStatusError) -> [UInt8] {
    var builder = JSONObjectBuilder()
    switch target {
    case .url(let path): builder.set("url", string: path)
    case .pattern(let pattern): builder.set("pattern", string: pattern)
    case .hostname(let host): builder.set("hostname", string: host)
    case .all: builder.set("purge_all", json_object())
    }
    switch mode {
    case .hard: builder.set("hard_purge", json_object())
    case .soft: builder.set("soft_purge", json_object())
    }
    guard let object = builder.finish() else {
      throw OpStatusError(.outOfMemory, "could not build the request body")
    }
    defer { json_decref(object) }
    return try dumpToBytes(object)
  }
}

/// Reads a one-of member whose value carries no data: `{}` or `true` set
/// it; absent, `null` or `false` leave it unset.
func readEmptyMarker(_ reader: JSONObjectReader, _ key: StaticString) throws(JSONDecodingError)
  -> Bool
{
  guard let value = reader.value(key) else { return false }
  if value.isBool { return value.pointee.type == JSON_TRUE }
  if value.isObject && json_object_size(value) == 0 { return true }
  throw JSONDecodingError(
    "expected {} or true, found \(value.shortDescription)", at: [.key("\(key)")])
}

/// Reads the optional `kind` of a request.
func readResourceKind(_ reader: JSONObjectReader) throws(JSONDecodingError) -> ResourceKind? {
  guard let text = try reader.string("kind") else { return nil }
  guard let kind = ResourceKind(rawValue: text) else {
    throw JSONDecodingError(
      "expected \"http_loadbalancer\" or \"cdn_loadbalancer\", found \(quoteForMessage(text))",
      at: [.key("kind")])
  }
  return kind
}

func rejectControlCharacters(_ value: String, field: String) throws(OpStatusError) {
  for scalar in value.unicodeScalars where isControlCharacter(scalar) {
    let code = "U+" + String(scalar.value, radix: 16, uppercase: true)
    throw .invalidArgument("\(field) contains the control character \(code)")
  }
}

/// Returns whether `host` is a DNS name of letters, digits and hyphens,
/// with an optional leading `*.` as virtual hosts allow. It needs at least
/// two labels of 1 to 63 characters, none starting or ending with a hyphen,
/// and 253 characters at most in all.
func isDomainName(_ host: String) -> Bool {
  var name = Substring(host)
  if name.hasPrefix("*.") { name = name.dropFirst(2) }
  if name.hasSuffix(".") { name = name.dropLast() }
  guard !name.isEmpty, name.utf8.count <= 253 else { return false }
  let labels = name.split(separator: ".", omittingEmptySubsequences: false)
  guard labels.count >= 2 else { return false }
  for label in labels {
    guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else {
      return false
    }
    let valid = label.unicodeScalars.allSatisfy {
      ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-"
    }
    if !valid { return false }
  }
  return true
}

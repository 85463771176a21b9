/// The base URL of a tenant's API, normalised so that every accepted form
/// reaches the same paths.
///
/// Accepted: a bare tenant name (`acme` means
/// `https://acme.console.ves.volterra.io`), a host name with no scheme
/// (`https://` is assumed), `https://acme.console.ves.volterra.io`, each of
/// these with `/api`, `/api/` or `/` after it, and `http://` for loopback
/// hosts only (127.0.0.0/8, ::1, localhost), which local test servers use.
struct APIEndpoint: Sendable, Equatable {
  /// Scheme, host and port, such as `https://acme.console.ves.volterra.io`.
  let origin: String
  let host: String
  let isLoopback: Bool
  let usesTLS: Bool

  /// Returns the URL of an API path that starts with `/api/`.
  func url(forPath path: String) -> String {
    origin + path
  }

  /// The domain under which every tenant's console lives.
  static let consoleDomain = "console.ves.volterra.io"

  /// Parses the setting's value; `setting` names where it came from, such
  /// as `api_url` or `F5XC_API_URL`, for error messages.
  init(_ text: String, setting: String = "api_url") throws(OpStatusError) {
    try self.init(parsing: text, quoted: redactingUserInformation(text), setting: setting)
  }

  /// Parses `text`. Messages quote `quoted`, the text without a password.
  private init(parsing text: String, quoted: String, setting: String) throws(OpStatusError) {
    guard !text.isEmpty else {
      throw .configuration("\(setting) is empty; set it to the tenant's API URL")
    }
    for scalar in text.unicodeScalars where isControlCharacter(scalar) || scalar == " " {
      throw .configuration(
        "\(setting) \(quoteForMessage(quoted)) contains a space or control character")
    }

    var rest = Substring(text)
    if APIEndpoint.isTenantName(rest) {
      rest = "https://\(rest).\(APIEndpoint.consoleDomain)"
    } else if rest.firstRange(of: "://") == nil {
      rest = "https://" + rest
    }
    if let schemeEnd = rest.firstRange(of: "://") {
      let scheme = asciiLowercased(String(rest[..<schemeEnd.lowerBound]))
      guard scheme == "https" || scheme == "http" else {
        throw .configuration(
          "\(setting) \(quoteForMessage(quoted)) uses the scheme \(quoteForMessage(scheme)); "
            + "use https://")
      }
      usesTLS = scheme == "https"
      rest = rest[schemeEnd.upperBound...]
    } else {
      throw .configuration("\(setting) \(quoteForMessage(quoted)) is not a URL")
    }

    let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" })
    let authority = authorityEnd.map { rest[..<$0] } ?? rest
    let path = authorityEnd.map { rest[$0...] } ?? ""

    guard !authority.contains("@") else {
      throw .configuration(
        "\(setting) must not contain user information (user:password@); "
          + "give the token as api_token")
    }
    guard !path.contains("?"), !path.contains("#") else {
      throw .configuration(
        "\(setting) \(quoteForMessage(quoted)) has a query or fragment; remove it")
    }
    let trimmedPath = path.hasSuffix("/") ? path.dropLast() : path
    guard trimmedPath.isEmpty || trimmedPath == "/api" else {
      throw .configuration(
        "\(setting) \(quoteForMessage(quoted)) has the path \(quoteForMessage(String(path))); "
          + "the API lives at /api, so give the URL with no path or with /api")
    }

    let (host, port) = try APIEndpoint.splitAuthority(authority, text: quoted, setting: setting)
    self.host = host
    isLoopback = APIEndpoint.isLoopbackHost(host)
    if !usesTLS && !isLoopback {
      throw .configuration(
        "\(setting) \(quoteForMessage(quoted)) uses http:// for a host that is not loopback; "
          + "use https://, since the token must not travel in clear text")
    }

    let scheme = usesTLS ? "https" : "http"
    let hostPart = host.contains(":") ? "[\(host)]" : host
    origin = "\(scheme)://\(hostPart)" + (port.map { ":\($0)" } ?? "")
  }

  /// Splits `host[:port]` or `[v6]:port` and checks both parts.
  private static func splitAuthority(_ authority: Substring, text: String, setting: String)
    throws(OpStatusError) -> (String, Int?)
  {
    let invalid = OpStatusError.configuration(
      "\(setting) \(quoteForMessage(text)) has no valid host[:port]")
    var host: Substring
    var portText: Substring?
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { throw invalid }
      host = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { throw invalid }
        portText = after.dropFirst()
      }
    } else if let colon = authority.firstIndex(of: ":") {
      host = authority[..<colon]
      portText = authority[authority.index(after: colon)...]
    } else {
      host = authority
    }
    guard !host.isEmpty else { throw invalid }
    let allowed = host.unicodeScalars.allSatisfy {
      ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
        || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_"
    }
    guard allowed else { throw invalid }

    var port: Int?
    if let portText {
      guard let number = parseDecimalUInt64(String(portText)), number >= 1, number <= 65535
      else {
        throw .configuration(
          "\(setting) \(quoteForMessage(text)) has an invalid port; use 1 to 65535")
      }
      port = Int(number)
    }
    return (asciiLowercased(String(host)), port)
  }

  /// Returns whether the text is a bare tenant name: letters, digits and hyphens,
  /// as in `acme` or `acme-prod`, with no dot, colon or slash.
  static func isTenantName(_ text: Substring) -> Bool {
    guard !text.isEmpty, text.utf8.count <= 63, text.first != "-", text.last != "-" else {
      return false
    }
    guard text != "localhost" else { return false }
    return text.unicodeScalars.allSatisfy {
      ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-"
    }
  }

  /// Returns whether a host is on this machine: `localhost`, 127.0.0.0/8 or ::1.
  static func isLoopbackHost(_ host: String) -> Bool {
    if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" {
      return true
    }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "127" else { return false }
    return parts.allSatisfy { part in
      guard part.count <= 3, let value = parseDecimalUInt64(String(part)) else { return false }
      return value <= 255
    }
  }
}

/// Returns the URL with any `user:password@` before the host replaced by `***@`,
/// so that messages can quote it.
func redactingUserInformation(_ text: String) -> String {
  guard let schemeEnd = text.firstRange(of: "://") else {
    guard let at = text.firstIndex(of: "@") else { return text }
    return "***" + text[at...]
  }
  let rest = text[schemeEnd.upperBound...]
  let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
  guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
  return String(text[..<schemeEnd.upperBound]) + "***" + String(text[at...])
}

/// Percent-encodes a path segment so that `/`, `..`, `?`, `#` and `%` in a
/// name cannot change the path. Only RFC 3986 unreserved characters stay
/// as they are. A segment of only dots is encoded in full, because `.` and
/// `..` have a meaning of their own in paths.
func percentEncodePathSegment(_ text: String) -> String {
  let onlyDots = !text.isEmpty && text.utf8.allSatisfy { $0 == UInt8(ascii: ".") }
  func isUnreserved(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
      || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
      || byte == UInt8(ascii: "~") || (byte == UInt8(ascii: ".") && !onlyDots)
  }
  // Names of namespaces and load balancers need no escapes, so they are
  // returned as they are, without building a new string.
  if text.utf8.allSatisfy(isUnreserved) {
    return text
  }
  var result = ""
  result.reserveCapacity(text.utf8.count * 3)
  let hexDigits: StaticString = "0123456789ABCDEF"
  for byte in text.utf8 {
    if isUnreserved(byte) {
      result.unicodeScalars.append(Unicode.Scalar(byte))
    } else {
      result.unicodeScalars.append("%")
      result.unicodeScalars.append(Unicode.Scalar(hexDigits.utf8Start[Int(byte >> 4)]))
      result.unicodeScalars.append(Unicode.Scalar(hexDigits.utf8Start[Int(byte & 0x0F)]))
    }
  }
  return result
}

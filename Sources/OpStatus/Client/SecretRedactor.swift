/// Removes the client's secrets from text before it leaves the library.
///
/// Error messages and log lines quote parts of server responses, and a
/// server or proxy may echo the `Authorization` header back in an error
/// page. Every message therefore passes through here. A secret is removed
/// where it appears whole, and also where a part of it of at least
/// `minimumFragment` bytes appears, since excerpts may cut it short.
struct SecretRedactor: Sendable {
  /// Shortest part of a secret that is treated as the secret.
  static let minimumFragment = 8
  static let replacement = "***"

  private let secrets: [[UInt8]]
  /// Every run of `minimumFragment` bytes of every long secret.
  private let fragments: Set<[UInt8]>

  init(secrets: [String]) {
    let nonEmpty = secrets.filter { !$0.isEmpty }.map { Array($0.utf8) }
    self.secrets = nonEmpty
    var fragments = Set<[UInt8]>()
    for secret in nonEmpty where secret.count >= SecretRedactor.minimumFragment {
      for start in 0...(secret.count - SecretRedactor.minimumFragment) {
        fragments.insert(Array(secret[start..<(start + SecretRedactor.minimumFragment)]))
      }
    }
    self.fragments = fragments
  }

  /// The secrets of a configuration: the token, the PKCS#12 password and
  /// the key password.
  init(credentials: Credentials) {
    switch credentials {
    case .token(let token):
      self.init(secrets: [token])
    case .p12(_, let password):
      self.init(secrets: [password])
    case .pem(_, _, let keyPassword):
      self.init(secrets: keyPassword.map { [$0] } ?? [])
    }
  }

  func redact(_ text: String) -> String {
    guard !secrets.isEmpty else { return text }
    let bytes = Array(text.utf8)
    var hidden = [Bool](repeating: false, count: bytes.count)
    var found = false

    for secret in secrets where secret.count <= bytes.count {
      for start in 0...(bytes.count - secret.count) where bytes[start..<(start + secret.count)].elementsEqual(secret) {
        for index in start..<(start + secret.count) { hidden[index] = true }
        found = true
      }
    }
    let width = SecretRedactor.minimumFragment
    if !fragments.isEmpty && bytes.count >= width {
      for start in 0...(bytes.count - width) where fragments.contains(Array(bytes[start..<(start + width)])) {
        for index in start..<(start + width) { hidden[index] = true }
        found = true
      }
    }
    guard found else { return text }

    var result: [UInt8] = []
    result.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
      if hidden[index] {
        result.append(contentsOf: SecretRedactor.replacement.utf8)
        while index < bytes.count && hidden[index] { index += 1 }
      } else {
        result.append(bytes[index])
        index += 1
      }
    }
    return String(decoding: result, as: UTF8.self)
  }

  func redact(_ error: OpStatusError) -> OpStatusError {
    var copy = error
    copy.message = redact(error.message)
    copy.apiCode = error.apiCode.map(redact)
    return copy
  }
}

import COpStatusABI

/// The library version, taken from the macros of the header so the
/// two cannot disagree.
enum LibraryVersion {
  static let major = Int(OPSTATUS_VERSION_MAJOR)
  static let minor = Int(OPSTATUS_VERSION_MINOR)
  static let patch = Int(OPSTATUS_VERSION_PATCH)
  static let number = UInt32(major * 10000 + minor * 100 + patch)
  static let text = "\(major).\(minor).\(patch)"
}

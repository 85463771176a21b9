/// One step from a JSON value to a value inside it.
enum JSONPathComponent: Sendable, Equatable {
  case key(String)
  case index(Int)
}

/// A value of the wrong type or form, with the path to it.
///
/// Readers throw it with the path relative to the object they read, and
/// each enclosing reader prepends its own step, so the path is built only
/// when something is wrong.
struct JSONDecodingError: Error, Sendable, CustomStringConvertible {
  var path: [JSONPathComponent]
  /// What was expected and what was found, such as
  /// `expected a string, found 5`.
  var problem: String

  init(_ problem: String, at path: [JSONPathComponent] = []) {
    self.problem = problem
    self.path = path
  }

  /// The path in the usual dotted form, such as `items[3].purge.site`.
  var pathText: String {
    var text = ""
    for component in path {
      switch component {
      case .key(let key):
        if !text.isEmpty { text += "." }
        text += key
      case .index(let index):
        text += "[\(index)]"
      }
    }
    return text.isEmpty ? "(top level)" : text
  }

  var description: String { "\(pathText): \(problem)" }

  func prefixed(_ component: JSONPathComponent) -> JSONDecodingError {
    var copy = self
    copy.path.insert(component, at: 0)
    return copy
  }

  func prefixed(_ components: [JSONPathComponent]) -> JSONDecodingError {
    var copy = self
    copy.path.insert(contentsOf: components, at: 0)
    return copy
  }
}

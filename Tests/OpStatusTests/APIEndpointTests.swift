import Testing

@testable import OpStatus

/// Forms of `api_url`. Parsing a URL sends nothing, so the host names here
/// are never contacted.
@Suite struct APIEndpointParsing {
  @Test(arguments: [
    "https://acme.console.ves.volterra.io",
    "https://acme.console.ves.volterra.io/",
    "https://acme.console.ves.volterra.io/api",
    "https://acme.console.ves.volterra.io/api/",
    "HTTPS://ACME.Console.VES.Volterra.IO/api",
  ])
  func tenantURLForms(text: String) throws {
    let endpoint = try APIEndpoint(text)
    #expect(endpoint.origin == "https://acme.console.ves.volterra.io")
  }

  @Test func bareTenantName() throws {
    let endpoint = try APIEndpoint("acme-prod")
    #expect(endpoint.origin == "https://acme-prod.console.ves.volterra.io")
  }

  @Test func hostWithoutScheme() throws {
    let endpoint = try APIEndpoint("acme.example.com/api")
    #expect(endpoint.origin == "https://acme.example.com")
  }

  @Test func urlForPath() throws {
    let endpoint = try APIEndpoint("https://acme.console.ves.volterra.io/api/")
    let url = endpoint.url(forPath: "/api/cdn/namespaces/ns1/x")
    #expect(url == "https://acme.console.ves.volterra.io/api/cdn/namespaces/ns1/x")
  }

  @Test func httpsWithPort() throws {
    let endpoint = try APIEndpoint("https://acme.example.com:8443/api")
    #expect(endpoint.origin == "https://acme.example.com:8443")
    #expect(endpoint.usesTLS)
    #expect(!endpoint.isLoopback)
  }

  @Test func httpOnIPv4Loopback() throws {
    let endpoint = try APIEndpoint("http://127.0.0.1:8080/api")
    #expect(endpoint.origin == "http://127.0.0.1:8080")
    #expect(endpoint.isLoopback)
    #expect(!endpoint.usesTLS)
  }

  @Test func httpOnLocalhost() throws {
    let endpoint = try APIEndpoint("http://localhost:8080")
    #expect(endpoint.origin == "http://localhost:8080")
  }

  @Test func httpOnUpperCaseLocalhost() throws {
    let endpoint = try APIEndpoint("http://LOCALHOST:8080")
    #expect(endpoint.origin == "http://localhost:8080")
  }

  @Test func httpOnIPv6Loopback() throws {
    let endpoint = try APIEndpoint("http://[::1]:8080/api/")
    #expect(endpoint.origin == "http://[::1]:8080")
    #expect(endpoint.host == "::1")
  }

  @Test(arguments: [
    "http://acme.console.ves.volterra.io/api",
    "http://10.0.0.1:8080",
    "http://127.0.0.1.example.com",
    "http://localhost.example.com",
    "http://[::2]:8080",
    "http://0.0.0.0:8080",
  ])
  func httpOnOtherHostRejected(text: String) {
    let error = endpointFailure(text)
    #expect(error?.code == .configuration)
    #expect(error?.message.contains("not loopback") == true)
  }

  @Test func userInfoRejected() {
    let error = endpointFailure("https://user:hunter2@acme.example.com/api")
    #expect(error?.code == .configuration)
    #expect(error?.message.contains("user information") == true)
  }

  @Test func userInfoPasswordNotShown() throws {
    let message = try #require(endpointFailure("https://user:hunter2@acme.example.com/api")?.message)
    #expect(!message.contains("hunter2"))
  }

  @Test func userInfoPasswordNotShownWithOtherScheme() throws {
    let message = try #require(endpointFailure("ftp://user:hunter2@acme.example.com/api")?.message)
    #expect(!message.contains("hunter2"))
  }

  @Test(arguments: [
    "https://acme.example.com/v1",
    "https://acme.example.com/api/v1",
    "https://acme.example.com/apis",
    "https://acme.example.com/API",
    "https://acme.example.com//",
    "https://acme.example.com/api//",
  ])
  func otherPathRejected(text: String) {
    let error = endpointFailure(text)
    #expect(error?.code == .configuration)
    #expect(error?.message.contains("the API lives at /api") == true)
  }

  @Test(arguments: [
    "https://acme.example.com/api?tenant=acme",
    "https://acme.example.com?tenant=acme",
    "https://acme.example.com/api#top",
  ])
  func queryOrFragmentRejected(text: String) {
    let error = endpointFailure(text)
    #expect(error?.code == .configuration)
    #expect(error?.message.contains("query or fragment") == true)
  }

  @Test(arguments: [
    "https://acme.example.com:0",
    "https://acme.example.com:65536",
    "https://acme.example.com:",
    "https://acme.example.com:https",
  ])
  func invalidPortRejected(text: String) {
    let error = endpointFailure(text)
    #expect(error?.code == .configuration)
    #expect(error?.message.contains("invalid port") == true)
  }

  @Test(arguments: [
    "ftp://acme.example.com",
    "https:///api",
    "https://[::1",
    "https://acme example.com",
    "https://acme.example.com/api\n",
    "https://ac%6De.example.com",
    "",
  ])
  func malformedRejected(text: String) {
    #expect(endpointFailure(text)?.code == .configuration)
  }
}

@Suite struct LoopbackHosts {
  @Test(arguments: [
    "localhost",
    "127.0.0.1",
    "127.1.2.3",
    "127.255.255.255",
    "::1",
    "0:0:0:0:0:0:0:1",
  ])
  func loopback(host: String) {
    #expect(APIEndpoint.isLoopbackHost(host))
  }

  @Test(arguments: [
    "",
    "example.com",
    "localhost.example.com",
    "127.0.0.1.example.com",
    "127.0.0",
    "127.0.0.1.",
    "127.0.0.256",
    "127..0.1",
    "127.0.0.-1",
    "128.0.0.1",
    "10.0.0.1",
    "0.0.0.0",
    "::",
    "::2",
    "::ffff:127.0.0.1",
    "1127.0.0.1",
  ])
  func notLoopback(host: String) {
    #expect(!APIEndpoint.isLoopbackHost(host))
  }
}

@Suite struct PathSegmentEncoding {
  @Test(arguments: [
    ("/", "%2F"),
    ("a/b", "a%2Fb"),
    (".", "%2E"),
    ("..", "%2E%2E"),
    ("...", "%2E%2E%2E"),
    ("?", "%3F"),
    ("#", "%23"),
    ("%", "%25"),
    ("%2F", "%252F"),
    (" ", "%20"),
    ("a b", "a%20b"),
    ("é", "%C3%A9"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("\u{1F600}", "%F0%9F%98%80"),
    ("+", "%2B"),
    (":", "%3A"),
    ("@", "%40"),
    ("\u{0}", "%00"),
  ])
  func encoded(text: String, expected: String) {
    #expect(percentEncodePathSegment(text) == expected)
  }

  @Test(arguments: [
    "abcxyzABCXYZ0189",
    "cdn-1",
    "shop_frontend",
    "tilde~",
    "a.b",
    "..a",
    "v1.2.3",
  ])
  func unreservedKept(text: String) {
    #expect(percentEncodePathSegment(text) == text)
  }

  @Test func emptyStaysEmpty() {
    #expect(percentEncodePathSegment("") == "")
  }
}

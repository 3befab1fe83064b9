/// A runtime failure: ArgumentParser prints "Error: <message>" and exits 1, without usage text
/// (usage is for bad arguments, which stay `ValidationError`s).
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

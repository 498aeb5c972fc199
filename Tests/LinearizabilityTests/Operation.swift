import Linearizability

/// XCTest imports Foundation, whose `Operation` would otherwise win; a declaration in this
/// module shadows it in every test file.
typealias Operation = Linearizability.Operation

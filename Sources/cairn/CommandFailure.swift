import ArgumentParser
import Foundation

/// How every cairn subcommand reports a failure: `Error: …` on stderr (the error names what
/// and where), exit status 1.
enum CommandFailure {
    static func exit(_ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
        return ExitCode.failure
    }
}

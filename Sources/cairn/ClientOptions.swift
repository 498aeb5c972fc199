import ArgumentParser
import Server

/// etcdctl's connection flags, for the commands that talk to a server: `--cacert` for https
/// endpoints, `--cert`/`--key` for a client certificate, `--user` (and `--password`) when auth is
/// enabled.
struct ClientOptions: ParsableArguments {
    @Option(name: .customLong("cacert"), help: "The CA certificate (PEM) that signs the server's certificate, for https endpoints.")
    var caFile: String?
    @Option(name: .customLong("cert"), help: "A client certificate (PEM) to present, for --client-cert-auth servers.")
    var certFile: String?
    @Option(name: .customLong("key"), help: "Its private key (PEM).") var keyFile: String?
    @Option(help: "name:password (or name with --password) of a user, when the server has auth enabled; snapshots need the root role.")
    var user: String?
    @Option(help: "The password of --user, when not given after a colon.") var password: String?

    var access: ClientAccess {
        ClientAccess(caFile: caFile, certFile: certFile, keyFile: keyFile, user: user, password: password)
    }

    func validate() throws {
        do {
            try access.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

import Storage
import Foundation
import Yams

/// Edits a kubelet static-pod manifest (kubeadm's `etcd.yaml`) so its data volume's hostPath names
/// another directory. The YAML is re-emitted from its node tree: key order and values are kept,
/// comments are not (kubeadm writes none).
enum StaticPodManifest {
    enum Edit: Equatable {
        /// The manifest already names the new directory and not the old one.
        case alreadyDone
        /// The new manifest text and the volumes changed, as `name (old -> new)`.
        case changed(text: String, volumes: [String])
    }

    /// Repoints every `spec.volumes[].hostPath.path` equal to `oldPath` at `newPath`; refuses a
    /// manifest with no such volume, naming the hostPaths it found.
    static func repoint(_ yaml: String, manifest: String, from oldPath: String, to newPath: String) throws -> Edit {
        var root = try parse(yaml, manifest: manifest)
        let volumes = root["spec"]?["volumes"]?.sequence.map(Array.init) ?? []
        var found: [String] = []
        var changed: [String] = []
        for (index, volume) in volumes.enumerated() {
            guard let pathNode = volume["hostPath"]?["path"], let path = pathNode.string else { continue }
            found.append(path)
            guard PathText.normalized(path) == oldPath else { continue }
            root["spec"]?["volumes"]?[index]?["hostPath"]?["path"] = Node(newPath, pathNode.tag, pathNode.scalar?.style ?? .any)
            changed.append("\(volume["name"]?.string ?? "volume \(index)") (\(path) -> \(newPath))")
        }
        guard changed.isEmpty else {
            let text = try serialize(root, manifest: manifest)
            try check(text, manifest: manifest, names: newPath, not: oldPath)
            return .changed(text: text, volumes: changed)
        }
        if found.contains(where: { PathText.normalized($0) == newPath }) { return .alreadyDone }
        let listed = found.isEmpty ? "none" : found.joined(separator: ", ")
        throw RunbookError(.manifest, "\(manifest) has no spec.volumes[].hostPath.path equal to \(oldPath) (hostPaths found: \(listed)); set dataDir to the data volume's hostPath")
    }

    private static func parse(_ yaml: String, manifest: String) throws -> Node {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw RunbookError(.manifest, "\(manifest) is not valid YAML: \(error)")
        }
        guard let node, node.mapping != nil else {
            throw RunbookError(.manifest, "\(manifest) is not a YAML mapping (a pod manifest)")
        }
        return node
    }

    private static func serialize(_ root: Node, manifest: String) throws -> String {
        do {
            return try Yams.serialize(node: root)
        } catch {
            throw RunbookError(.manifest, "cannot write the edited \(manifest): \(error)")
        }
    }

    /// Reads the emitted text back: it must parse and name only the new path.
    private static func check(_ text: String, manifest: String, names newPath: String, not oldPath: String) throws {
        let paths = (try parse(text, manifest: manifest)["spec"]?["volumes"]?.sequence.map(Array.init) ?? [])
            .compactMap { $0["hostPath"]?["path"]?.string.flatMap(PathText.normalized) }
        guard paths.contains(newPath), !paths.contains(oldPath) else {
            preconditionFailure("edited manifest \(manifest) read back with hostPaths \(paths)")
        }
    }
}

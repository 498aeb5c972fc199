import Foundation

/// The drop-in that points a systemd unit at the restored data-dir.
///
/// It sets both `ETCD_DATA_DIR` and `CAIRN_DATA_DIR` because cairn reads `CAIRN_X` before `ETCD_X`:
/// a unit that set `CAIRN_DATA_DIR` itself would otherwise still win. A `--data-dir` flag on the
/// unit's `ExecStart`, or a `--config-file`, wins over any environment: such units must drop it.
enum SystemdDropIn {
    static func content(dataDir: String) -> String {
        """
        # Written by cairn runbook restore: the member's data-dir is the restored one.
        # Flags on ExecStart (--data-dir, --config-file) override this; the unit must not pass them.
        [Service]
        Environment=\(quoted("ETCD_DATA_DIR=" + dataDir))
        Environment=\(quoted("CAIRN_DATA_DIR=" + dataDir))

        """
    }

    /// systemd's quoting: double quotes, backslash escapes, and `%` doubled so it is not a specifier.
    private static func quoted(_ assignment: String) -> String {
        let escaped = assignment
            .replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%")
        return "\"\(escaped)\""
    }
}

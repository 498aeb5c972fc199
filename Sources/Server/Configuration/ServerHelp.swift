/// The settings `cairn server` accepts, for `--help`.
public enum ServerHelp {
    public static var text: String {
        var lines = [
            "Settings, each as --flag=value, ETCD_FLAG / CAIRN_FLAG in the environment, or a key of the",
            "YAML file given by --config-file (which then alone decides, as in etcd):",
        ]
        for setting in ServerSetting.all {
            lines.append("  --\(setting.flag.padding(to: 30))\(setting.help)")
        }
        lines.append("  --\("config-file".padding(to: 30))YAML file of the settings above")
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

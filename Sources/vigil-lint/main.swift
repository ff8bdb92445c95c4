import Foundation
import VigilLint

// vigil-lint: the gitops gate for vigil (docs/gitops.md). Everything happens in VigilLint.
exit(LintCommand.main(Array(CommandLine.arguments.dropFirst())))

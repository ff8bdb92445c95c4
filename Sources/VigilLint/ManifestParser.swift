import Foundation
import VigilLintCore

/// A manifest file's objects: the YAML stream cut at its document markers into one chunk per
/// core, each chunk parsed (Yams), converted and read into objects on a thread of its own, the
/// results put back in input order. A large stream (`helm template` of a big chart) is read in
/// a fraction of the time one thread takes.
enum ManifestParser {
    /// Below this, one thread: starting threads costs more than it saves.
    static let parallelThreshold = 256 * 1024

    static func objects(
        _ text: String, file: String, splitter: ThreadSplitter, threshold: Int = parallelThreshold
    ) throws(Report.InputProblem) -> ObjectSet {
        let workers = text.utf8.count < threshold ? 1 : splitter.workers
        let chunks = workers == 1 ? [Chunk(text: text, firstLine: 1)] : Chunk.split(text, into: workers)
        let results = splitter.map(chunks.count) { index in
            Result { () throws(Report.InputProblem) in try read(chunks[index], file: file) }
        }
        var objects = ObjectSet()
        for result in results { objects.append(contentsOf: try result.get()) }
        return objects
    }

    static func read(_ chunk: Chunk, file: String) throws(Report.InputProblem) -> ObjectSet {
        var objects = ObjectSet()
        for document in try YAMLReader.documents(chunk.text, file: file, lineOffset: chunk.firstLine - 1) {
            objects.append(contentsOf: ObjectReader.read(document, file: file))
        }
        return objects
    }

    /// A run of whole documents and the line it starts on.
    struct Chunk: Sendable {
        var text: String
        var firstLine: Int

        /// Cuts TEXT before `---` lines (document starts, which libyaml honours even inside block
        /// scalars) into about COUNT chunks of similar size.
        static func split(_ text: String, into count: Int) -> [Chunk] {
            var text = text
            return text.withUTF8 { bytes in
                var starts: [(offset: Int, line: Int)] = [(0, 1)]
                var line = 1
                for index in bytes.indices where bytes[index] == 0x0A {
                    line += 1
                    let next = index + 1
                    if next + 2 < bytes.count, bytes[next] == 0x2D, bytes[next + 1] == 0x2D, bytes[next + 2] == 0x2D,
                        next + 3 == bytes.count || [0x20, 0x09, 0x0A, 0x0D].contains(bytes[next + 3])
                    {
                        starts.append((next, line))
                    }
                }
                let target = max(1, bytes.count / count)
                var chunks: [Chunk] = []
                var chunkStart = starts[0]
                func chunk(to end: Int) -> Chunk {
                    Chunk(
                        text: String(
                            decoding: UnsafeBufferPointer(rebasing: bytes[chunkStart.offset..<end]), as: UTF8.self),
                        firstLine: chunkStart.line)
                }
                for start in starts.dropFirst() where start.offset - chunkStart.offset >= target {
                    chunks.append(chunk(to: start.offset))
                    chunkStart = start
                }
                chunks.append(chunk(to: bytes.count))
                return chunks
            }
        }
    }
}

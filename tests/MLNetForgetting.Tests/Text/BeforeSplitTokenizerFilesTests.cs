using System.Text.Json;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

/// <summary>
/// Tokenizer files of the four older kinds as the build before the SubwordTokenizer split wrote them (what model zips
/// keep under "tokenizer."), with the ids that build gave for the test sentences (Text/fixtures/before-split, see
/// tools/tokenizer-vectors/README.md): the current build loads them to the same vocabulary, fingerprint and ids.
/// </summary>
[TestClass]
public sealed class BeforeSplitTokenizerFilesTests
{
    [TestMethod]
    [DataRow("bpe")]
    [DataRow("sentencepiece")]
    [DataRow("bert")]
    [DataRow("tiktoken")]
    public void FilesWrittenBeforeTheSplitLoadToTheSameIds(string kind)
    {
        string dir = HuggingFaceTokenizerVectorTests.Fixture(Path.Combine("before-split", kind));
        var files = Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != "ids.json").ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "ids.json")));
        var root = doc.RootElement;
        // The sentences of tools/tokenizer-vectors/sentences.json, as every fixture's expected.json lists them.
        using var expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(HuggingFaceTokenizerVectorTests.Fixture("roberta-bpe"), "expected.json")));
        string[] sentences = expected.RootElement.GetProperty("sentences").EnumerateArray().Select(s => s.GetString()!).ToArray();

        var tokenizer = SubwordTokenizer.FromFiles(files);
        Assert.AreEqual(kind, tokenizer.Kind);
        Assert.AreEqual(root.GetProperty("kind").GetString(), tokenizer.Kind);
        Assert.AreEqual(root.GetProperty("vocab_size").GetInt32(), tokenizer.VocabSize);
        Assert.AreEqual(root.GetProperty("fingerprint").GetString(), tokenizer.Fingerprint);
        CollectionAssert.AreEqual(root.GetProperty("specials").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            new[] { tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId });
        var ids = root.GetProperty("ids").EnumerateArray().Select(a => a.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToArray();
        Assert.HasCount(sentences.Length, ids);
        for (int i = 0; i < sentences.Length; i++)
            CollectionAssert.AreEqual(ids[i], tokenizer.EncodeToIds(sentences[i]), $"{kind}, sentence {i} \"{sentences[i]}\"");
        // Written back, the files are the same bytes.
        foreach (var (name, bytes) in tokenizer.ToFiles()) CollectionAssert.AreEqual(files[name], bytes, name);
    }
}

using System.Text;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

[TestClass]
public sealed class BpeRoundTripTests
{
    private static readonly BpeTrainerOptions SmallVocab = new() { VocabSize = 1500 };

    [TestMethod]
    public void HeldOutLinesOfEveryRawLanguageRoundTripWithoutUnknownTokens()
    {
        string[] languages = TextTestData.RawLanguages();
        Assert.IsNotEmpty(languages, "shared/data/raw has no language folders.");
        var failures = new List<string>();
        foreach (string language in languages)
        {
            var (train, heldOut) = TextTestData.Split(TextTestData.RawLines(language), 150_000, 20_000);
            failures.AddRange(CheckRoundTrip(language, train, heldOut));
        }
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }

    [TestMethod]
    public void HeldOutXnliDevRowsOfEveryLanguageRoundTripWithoutUnknownTokens()
    {
        string[] files = TextTestData.XnliDevFiles();
        Assert.IsNotEmpty(files, "shared/data/xnli/dev has no dev.*.tsv files.");
        var failures = new List<string>();
        foreach (string file in files)
        {
            var (train, heldOut) = TextTestData.Split(TextTestData.XnliSentences(file), 150_000, 20_000);
            failures.AddRange(CheckRoundTrip(Path.GetFileName(file), train, heldOut));
        }
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }

    private static IEnumerable<string> CheckRoundTrip(string name, List<string> train, List<string> heldOut)
    {
        if (train.Count == 0 || heldOut.Count == 0)
        {
            yield return $"{name}: not enough lines ({train.Count} train, {heldOut.Count} held out)";
            yield break;
        }
        SubwordTokenizer tokenizer = BpeVocabularyTrainer.Train(train, SmallVocab);
        long tokens = 0, unknown = 0, chars = 0;
        int mismatches = 0;
        string? firstMismatch = null;
        foreach (string line in heldOut)
        {
            int[] ids = tokenizer.EncodeToIds(line);
            tokens += ids.Length;
            chars += line.Length;
            unknown += ids.Count(id => id == tokenizer.UnkId);
            if (ids.Any(id => tokenizer.SpecialIds.Contains(id))) yield return $"{name}: a special id came out of EncodeToIds";
            string decoded = tokenizer.Decode(ids);
            if (decoded != tokenizer.Normalize(line))
            {
                mismatches++;
                firstMismatch ??= line.Length > 80 ? line[..80] : line;
            }
        }
        if (unknown != 0) yield return $"{name}: {unknown} unknown tokens out of {tokens}";
        if (mismatches != 0) yield return $"{name}: {mismatches} held-out lines did not round-trip, e.g. '{firstMismatch}'";
        // Learned merges must actually compress: fewer tokens than UTF-8 bytes.
        long bytes = heldOut.Sum(l => (long)Encoding.UTF8.GetByteCount(tokenizer.Normalize(l)));
        if (tokens * 2 > bytes) yield return $"{name}: {tokens} tokens for {bytes} bytes; merges barely apply";
    }

    [TestMethod]
    public void TextOfAnUnseenScriptStillRoundTripsWithoutUnknownTokens()
    {
        // Byte-level: an English vocabulary must still encode Thai, Hindi, Chinese and emoji losslessly.
        var tokenizer = TextTestData.EnglishTokenizer;
        string[] samples = ["ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", "हिन्दी में मात्राएँ", "中文没有空格。", "emoji 👩‍👩‍👧 and 𠀋 outside the BMP", "Ελληνικά και Русский"];
        foreach (string sample in samples)
        {
            int[] ids = tokenizer.EncodeToIds(sample);
            Assert.DoesNotContain(tokenizer.UnkId, ids, sample);
            Assert.AreEqual(sample, tokenizer.Decode(ids), sample);
        }
    }

    [TestMethod]
    [DataRow("line one\r\nline two\rline three", "line one\nline two\nline three")]
    [DataRow("tab\tand\u0007bell\u0000nul", "tab\tandbellnul")]
    [DataRow("e\u0301cole", "\u00e9cole")]                 // NFD input becomes NFC
    [DataRow("  multiple   spaces  kept ", "  multiple   spaces  kept ")]
    [DataRow("<s> <mask> </s> are just text here", "<s> <mask> </s> are just text here")]
    public void NormalizeIsWhatDecodeOfEncodeGivesBack(string input, string expected)
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        Assert.AreEqual(expected, tokenizer.Normalize(input));
        Assert.AreEqual(expected, TextNormalization.Normalize(expected), "normalisation must be idempotent");
        int[] ids = tokenizer.EncodeToIds(input);
        Assert.IsFalse(ids.Any(tokenizer.SpecialIds.Contains), "special-token text in the input must not become special ids");
        Assert.AreEqual(expected, tokenizer.Decode(ids));
    }

    [TestMethod]
    public void UnpairedSurrogatesBecomeReplacementCharacters()
    {
        // Built at run time: attribute strings cannot carry a lone surrogate intact.
        string input = "lone " + (char)0xD800 + " high, lone " + (char)0xDC00 + " low, pair " + char.ConvertFromUtf32(0x1F600);
        string expected = "lone \uFFFD high, lone \uFFFD low, pair " + char.ConvertFromUtf32(0x1F600);
        var tokenizer = TextTestData.EnglishTokenizer;
        Assert.AreEqual(expected, tokenizer.Normalize(input));
        Assert.AreEqual(expected, tokenizer.Decode(tokenizer.EncodeToIds(input)));
    }

    [TestMethod]
    public void NullAndEmptyEncodeToNothing()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        Assert.IsEmpty(tokenizer.EncodeToIds(null!));
        Assert.IsEmpty(tokenizer.EncodeToIds(""));
        Assert.AreEqual("", tokenizer.Decode([]));
    }

    [TestMethod]
    public void LeadingSpaceMakesADifferentTokenAndFrequentWordsAreSingleTokens()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        int? withSpace = tokenizer.SingleTokenId(" the");
        int? bare = tokenizer.SingleTokenId("the");
        Assert.IsNotNull(withSpace, "' the' should be one token in a 2000-token English vocabulary");
        Assert.IsNotNull(bare);
        Assert.AreNotEqual(withSpace, bare);
        Assert.AreEqual(withSpace, tokenizer.TokenToId("Ġthe"), "byte-level vocabulary form of ' the' is 'Ġthe'");
        Assert.AreEqual("Ġthe", tokenizer.IdToToken(withSpace!.Value));
        int[] sentence = tokenizer.EncodeToIds("the cat and the dog");
        Assert.AreEqual(bare, sentence[0]);
        Assert.Contains(withSpace.Value, sentence);
    }
}

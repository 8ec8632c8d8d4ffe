using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

[TestClass]
public sealed class BpeTrainerTests
{
    [TestMethod]
    public void TrainedFilesLoadInMicrosoftBpeTokenizerFromDiskAndGiveTheSameIds()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        var files = tokenizer.ToFiles();
        string dir = Directory.CreateTempSubdirectory("mlnf-bpe-").FullName;
        try
        {
            foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
            using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "tokenizer_config.json")));
            string pattern = config.RootElement.GetProperty("pre_tokenizer_pattern").GetString()!;

            // Built only from the files on disk and Microsoft.ML.Tokenizers' own types.
            var direct = BpeTokenizer.Create(new BpeOptions(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"))
            {
                PreTokenizer = new RegexPreTokenizer(new Regex(pattern), null),
                UnknownToken = "<unk>",
                ByteLevel = true,
            });

            Assert.AreEqual(tokenizer.VocabSize, direct.Vocabulary.Count);
            Assert.AreEqual(SpecialTokens.MaskId, direct.Vocabulary[SpecialTokens.Mask]);
            Assert.AreEqual(SpecialTokens.PadId, direct.Vocabulary[SpecialTokens.Pad]);
            int compared = 0;
            foreach (string line in TextTestData.EnglishHeldOut(20_000))
            {
                string normalized = TextNormalization.Normalize(line);
                CollectionAssert.AreEqual(tokenizer.EncodeToIds(line), direct.EncodeToIds(normalized).ToArray(), line);
                Assert.AreEqual(normalized, direct.Decode(direct.EncodeToIds(normalized)));
                compared++;
            }
            Assert.IsGreaterThan(10, compared);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void TrainingTwiceGivesByteIdenticalFiles()
    {
        var (train, _) = TextTestData.Split(TextTestData.RawLines("de"), 120_000, 0);
        var options = new BpeTrainerOptions { VocabSize = 1200 };
        var first = BpeVocabularyTrainer.Train(train, options).ToFiles();
        var second = BpeVocabularyTrainer.Train(train.ToArray(), options).ToFiles();
        CollectionAssert.AreEquivalent(first.Keys.ToList(), second.Keys.ToList());
        foreach (string name in first.Keys) CollectionAssert.AreEqual(first[name], second[name], name);
        Assert.AreEqual(SubwordTokenizer.FromFiles(first).Fingerprint, SubwordTokenizer.FromFiles(second).Fingerprint);

        var other = BpeVocabularyTrainer.Train(train, options with { VocabSize = 1100 });
        Assert.AreNotEqual(SubwordTokenizer.FromFiles(first).Fingerprint, other.Fingerprint);
    }

    [TestMethod]
    public void FromFilesRebuildsTheSameTokenizer()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        var rebuilt = SubwordTokenizer.FromFiles(tokenizer.ToFiles());
        Assert.AreEqual(tokenizer.Fingerprint, rebuilt.Fingerprint);
        Assert.AreEqual(tokenizer.VocabSize, rebuilt.VocabSize);
        Assert.AreEqual("bpe", rebuilt.Kind);
        Assert.MatchesRegex("^[0-9a-f]{64}$", rebuilt.Fingerprint);
        foreach (string line in TextTestData.EnglishHeldOut(5_000))
        {
            CollectionAssert.AreEqual(tokenizer.EncodeToIds(line), rebuilt.EncodeToIds(line));
        }
    }

    [TestMethod]
    public void FromFilesRejectsMissingOrForeignFiles()
    {
        var files = TextTestData.EnglishTokenizer.ToFiles();
        var withoutMerges = files.Where(f => f.Key != "merges.txt").ToDictionary();
        Assert.ThrowsExactly<InvalidDataException>(() => SubwordTokenizer.FromFiles(withoutMerges));
        var otherNormalization = files.ToDictionary();
        otherNormalization["tokenizer_config.json"] = Encoding.UTF8.GetBytes(
            Encoding.UTF8.GetString(files["tokenizer_config.json"]).Replace(TextNormalization.Version, "nfkc-lower"));
        Assert.ThrowsExactly<InvalidDataException>(() => SubwordTokenizer.FromFiles(otherNormalization));
    }

    [TestMethod]
    public void SpecialTokensComeFirstInRobertaOrderFollowedByTheByteAlphabet()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        for (int id = 0; id < SpecialTokens.InIdOrder.Count; id++) Assert.AreEqual(SpecialTokens.InIdOrder[id], tokenizer.IdToToken(id));
        Assert.AreEqual(SpecialTokens.PadId, tokenizer.PadId);
        Assert.AreEqual(SpecialTokens.MaskId, tokenizer.MaskId);
        Assert.AreEqual(SpecialTokens.BosId, tokenizer.BosId);
        Assert.AreEqual(SpecialTokens.EosId, tokenizer.EosId);
        Assert.AreEqual(SpecialTokens.UnkId, tokenizer.UnkId);
        Assert.AreEqual(5, tokenizer.SpecialIds.Count);
        Assert.AreEqual("Ġ", tokenizer.IdToToken(5 + ' '), "byte 0x20 (space) is 'Ġ' in the GPT-2 mapping");
        Assert.AreEqual(2000, tokenizer.VocabSize);
    }

    [TestMethod]
    public void BlankTextsAreSkippedAndACorpusTooSmallToMergeGivesTheAlphabet()
    {
        var options = new BpeTrainerOptions { VocabSize = 500 };
        var withBlanks = BpeVocabularyTrainer.Train([null, "", "   ", "\t\n", "low lower lowest", null], options);
        var clean = BpeVocabularyTrainer.Train(["low lower lowest"], options);
        Assert.AreEqual(clean.Fingerprint, withBlanks.Fingerprint);

        // Every pair occurs once, below MinFrequency 2: no merge, alphabet only, still lossless.
        var alphabetOnly = BpeVocabularyTrainer.Train(["abc"], options);
        Assert.AreEqual(5 + 256, alphabetOnly.VocabSize);
        Assert.AreEqual("xyz déjà 東京", alphabetOnly.Decode(alphabetOnly.EncodeToIds("xyz déjà 東京")));
        Assert.AreEqual(Encoding.UTF8.GetByteCount("xyz déjà 東京"), alphabetOnly.EncodeToIds("xyz déjà 東京").Length);
    }

    [TestMethod]
    public void NoTextAtAllIsAnError()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => BpeVocabularyTrainer.Train([null, " ", ""], new BpeTrainerOptions()));
        StringAssert.Contains(error.Message, "No training text");
        Assert.ThrowsExactly<ArgumentException>(() => BpeVocabularyTrainer.Train([], new BpeTrainerOptions()));
    }

    [TestMethod]
    public void MaxTrainingCharactersStopsReading()
    {
        var options = new BpeTrainerOptions { VocabSize = 400, MaxTrainingCharacters = 1000 };
        IEnumerable<string> Endless() { while (true) yield return "the quick brown fox jumps over the lazy dog "; }
        var capped = BpeVocabularyTrainer.Train(Endless(), options);   // must terminate
        // 22 whole texts of 44 characters (968) plus the first 32 characters of the 23rd.
        const string text = "the quick brown fox jumps over the lazy dog ";
        var firstThousand = Enumerable.Repeat(text, 22).Append(text[..32]).ToList();
        Assert.AreEqual(1000, firstThousand.Sum(t => t.Length));
        var reference = BpeVocabularyTrainer.Train(firstThousand, options with { MaxTrainingCharacters = long.MaxValue });
        Assert.AreEqual(reference.Fingerprint, capped.Fingerprint);
        Assert.IsGreaterThan(5 + 256, capped.VocabSize);
    }

    [TestMethod]
    public void RequiredLabelWordsBecomeSingleTokens()
    {
        string[] labelWords = [" great", " terrible", " Yes", " No", " Maybe", " subjective", " objective"];
        var (train, _) = TextTestData.Split(TextTestData.RawLines("en"), 60_000, 0);
        var options = new BpeTrainerOptions { VocabSize = 600 };
        var plain = BpeVocabularyTrainer.Train(train, options);
        Assert.IsTrue(labelWords.Any(w => plain.SingleTokenId(w) is null), "precondition: a 600-token vocabulary lacks some label words");

        var withLabels = BpeVocabularyTrainer.Train(train, options with { RequiredTokens = labelWords });
        Assert.IsLessThanOrEqualTo(600, withLabels.VocabSize);
        var ids = labelWords.Select(w => withLabels.SingleTokenId(w)).ToArray();
        Assert.IsTrue(ids.All(id => id is not null), string.Join(", ", labelWords.Where((w, i) => ids[i] is null)));
        Assert.HasCount(labelWords.Length, ids.Distinct());
        Assert.AreNotEqual(withLabels.SingleTokenId(" great"), withLabels.SingleTokenId("great"));
        // In context, too: " great." is " great" + "."
        int[] sentence = withLabels.EncodeToIds("It was great. It was great.");
        Assert.AreEqual(2, sentence.Count(id => id == withLabels.SingleTokenId(" great")));
        Assert.ThrowsExactly<ArgumentException>(() => BpeVocabularyTrainer.Train(train, options with { RequiredTokens = [" two words"] }));
    }
}

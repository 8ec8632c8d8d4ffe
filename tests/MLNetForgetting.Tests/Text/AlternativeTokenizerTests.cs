using System.Text;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

[TestClass]
public sealed class AlternativeTokenizerTests
{
    private static readonly Lazy<SubwordTokenizer> O200k = new(() => SubwordTokenizer.FromTiktoken("o200k_base"));

    [TestMethod]
    public void TiktokenO200kWorksOfflineLosslesslyWithAppendedSpecialIds()
    {
        var tokenizer = O200k.Value;
        Assert.AreEqual("tiktoken", tokenizer.Kind);
        string text = "Tokenizers from tiktoken: ภาษาไทย, हिन्दी, 中文 and emoji 🙂.";
        int[] ids = tokenizer.EncodeToIds(text);
        Assert.AreEqual(text, tokenizer.Decode(ids));
        Assert.IsLessThan(text.Length, ids.Length);

        // Our five roles live after every id tiktoken can produce.
        int[] specials = [tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId];
        Assert.IsTrue(ids.All(id => id < specials.Min()));
        CollectionAssert.AreEqual(Enumerable.Range(tokenizer.VocabSize - 5, 5).ToArray(), specials);
        Assert.AreEqual(tokenizer.MaskId, tokenizer.TokenToId(SpecialTokens.Mask));
        Assert.AreEqual(SpecialTokens.Pad, tokenizer.IdToToken(tokenizer.PadId));

        int[] pair = tokenizer.EncodePair("first", " second", 64);
        Assert.AreEqual(tokenizer.BosId, pair[0]);
        Assert.AreEqual(2, pair.Count(id => id == tokenizer.EosId) - 1, "RoBERTa layout: </s></s> between and </s> at the end");

        var rebuilt = SubwordTokenizer.FromFiles(tokenizer.ToFiles());
        Assert.AreEqual(tokenizer.Fingerprint, rebuilt.Fingerprint);
        CollectionAssert.AreEqual(ids, rebuilt.EncodeToIds(text));
    }

    private static byte[] BertVocab()
    {
        string[] tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a", "dog", ".", ",", "play", "##ing"];
        return Encoding.UTF8.GetBytes(string.Join("\n", tokens) + "\n");
    }

    [TestMethod]
    public void BertVocabMapsRolesAndUsesTheBertPairLayout()
    {
        var tokenizer = SubwordTokenizer.FromBertVocab(new MemoryStream(BertVocab()));
        Assert.AreEqual("bert", tokenizer.Kind);
        Assert.AreEqual(17, tokenizer.VocabSize);
        Assert.AreEqual((2, 0, 3, 1, 4), (tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId));

        int[] ids = tokenizer.EncodeToIds("The cats sat on a mat.");
        CollectionAssert.AreEqual(new[] { 5, 6, 10, 7, 8, 11, 9, 13 }, ids);
        CollectionAssert.AreEqual(new[] { 1 }, tokenizer.EncodeToIds("zebra"), "unknown words become [UNK]");
        CollectionAssert.AreEqual(new[] { 2, 12, 3, 15, 16, 3 }, tokenizer.EncodePair("dog", "playing", 32));
        Assert.AreEqual(3, tokenizer.PairSpecialTokenCount);
        Assert.AreEqual(tokenizer.Decode(tokenizer.EncodeToIds("The dog sat")), tokenizer.Normalize("The dog sat"));

        var rebuilt = SubwordTokenizer.FromFiles(tokenizer.ToFiles());
        CollectionAssert.AreEqual(ids, rebuilt.EncodeToIds("The cats sat on a mat."));
        Assert.AreEqual(tokenizer.Fingerprint, rebuilt.Fingerprint);
    }

    [TestMethod]
    public void BertVocabWithoutRequiredSpecialsIsRejected()
    {
        Assert.ThrowsExactly<InvalidDataException>(() => SubwordTokenizer.FromBertVocab(new MemoryStream(Encoding.UTF8.GetBytes("the\ncat\n"))));
    }

    [TestMethod]
    public void CorruptSentencePieceStreamGivesAClearError()
    {
        // No SentencePiece model file is available offline, and Microsoft.ML.Tokenizers cannot train one,
        // so only the failure path is tested here.
        var error = Assert.ThrowsExactly<InvalidDataException>(() => SubwordTokenizer.FromSentencePiece(new MemoryStream([0x0A, 0xFF, 0xFF, 0x01, 0x02])));
        StringAssert.Contains(error.Message, "SentencePiece");
    }
}

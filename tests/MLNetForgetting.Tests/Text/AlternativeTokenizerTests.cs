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

    internal static byte[] BertVocab()
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

    // A minimal SentencePiece BPE ModelProto written by hand (no model file is available offline and
    // Microsoft.ML.Tokenizers cannot train one). Field numbers from sentencepiece_model.proto.
    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do { byte b = (byte)(value & 0x7F); value >>= 7; bytes.Add(value == 0 ? b : (byte)(b | 0x80)); } while (value != 0);
        return [.. bytes];
    }
    private static byte[] Message(int field, byte[] payload) => [.. Varint((ulong)(field << 3 | 2)), .. Varint((ulong)payload.Length), .. payload];
    private static byte[] Number(int field, long value) => [.. Varint((ulong)(field << 3)), .. Varint((ulong)value)];
    private static byte[] Float(int field, float value) => [.. Varint((ulong)(field << 3 | 5)), .. BitConverter.GetBytes(value)];

    internal static byte[] SentencePieceBpeModel()
    {
        // type: 1 normal, 2 unknown, 3 control. In BPE models a higher score merges first.
        (string Piece, float Score, int Type)[] pieces =
        [
            ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3),
            ("\u2581", -10, 1), ("l", -11, 1), ("o", -12, 1), ("w", -13, 1), ("e", -14, 1), ("r", -15, 1),
            ("lo", -1, 1), ("\u2581lo", -2, 1), ("\u2581low", -3, 1), ("er", -4, 1),
        ];
        var model = new List<byte>();
        foreach (var (piece, score, type) in pieces)
            model.AddRange(Message(1, [.. Message(1, Encoding.UTF8.GetBytes(piece)), .. Float(2, score), .. Number(3, type)]));
        // TrainerSpec: model_type BPE (2), unk 0, bos 1, eos 2, pad -1 (none).
        model.AddRange(Message(2, [.. Number(3, 2), .. Number(40, 0), .. Number(41, 1), .. Number(42, 2), .. Number(43, -1)]));
        // NormalizerSpec: add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces.
        model.AddRange(Message(3, [.. Number(3, 1), .. Number(4, 1), .. Number(5, 1)]));
        return [.. model];
    }

    [TestMethod]
    public void SentencePieceBpeModelEncodesAndAppendsMissingRoles()
    {
        var tokenizer = SubwordTokenizer.FromSentencePiece(new MemoryStream(SentencePieceBpeModel()));
        Assert.AreEqual("sentencepiece", tokenizer.Kind);
        CollectionAssert.AreEqual(new[] { 11, 11, 12 }, tokenizer.EncodeToIds("low lower"));
        Assert.AreEqual("low lower", tokenizer.Decode(tokenizer.EncodeToIds("low lower")));
        // <unk>, <s>, </s> come from the model; <pad> and <mask> are appended after its 13 pieces.
        Assert.AreEqual((1, 13, 2, 0, 14), (tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId));
        Assert.AreEqual(15, tokenizer.VocabSize);
        // Each segment gets the dummy-prefix space, so "er" alone is "▁" + "er".
        CollectionAssert.AreEqual(new[] { 1, 11, 2, 2, 3, 12, 2 }, tokenizer.EncodePair("low", "er", 16));
        Assert.Contains(tokenizer.UnkId, tokenizer.EncodeToIds("low zzz"));
        var rebuilt = SubwordTokenizer.FromFiles(tokenizer.ToFiles());
        Assert.AreEqual(tokenizer.Fingerprint, rebuilt.Fingerprint);
        CollectionAssert.AreEqual(tokenizer.EncodeToIds("lower low"), rebuilt.EncodeToIds("lower low"));
    }

    [TestMethod]
    public void CorruptSentencePieceStreamGivesAClearError()
    {
        var error = Assert.ThrowsExactly<InvalidDataException>(() => SubwordTokenizer.FromSentencePiece(new MemoryStream([0x0A, 0xFF, 0xFF, 0x01, 0x02])));
        StringAssert.Contains(error.Message, "SentencePiece");
    }
}

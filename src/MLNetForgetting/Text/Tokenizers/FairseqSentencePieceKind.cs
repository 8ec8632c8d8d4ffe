using static MLNetForgetting.Text.TokenizerFiles;

namespace MLNetForgetting.Text;

/// <summary>
/// Kind "fairseq-sentencepiece": XLM-R's sentencepiece.bpe.model numbered as fairseq's dictionary and Hugging
/// Face's XLMRobertaTokenizer number it: &lt;s&gt;=0, &lt;pad&gt;=1, &lt;/s&gt;=2, &lt;unk&gt;=3 (SentencePiece's
/// unknown piece too), every other piece its SentencePiece id + 1, &lt;mask&gt; = pieces + 1 (the last id).
/// </summary>
internal static class FairseqSentencePieceKind
{
    private const int Offset = 1, Bos = 0, Pad = 1, Eos = 2, Unk = 3;

    public static SubwordTokenizer Load(IReadOnlyDictionary<string, byte[]> files) => Create(Require(files, SentencePieceBpeFile));

    public static SubwordTokenizer Create(byte[] model)
    {
        var sp = SentencePieceKind.Open(model, SentencePieceBpeFile);
        int pieces = sp.Vocabulary.Values.DefaultIfEmpty(-1).Max() + 1;
        if (pieces < 3) throw new InvalidDataException($"{SentencePieceBpeFile} has {pieces} pieces; a model has at least <unk>, <s> and </s>.");
        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (piece, id) in sp.Vocabulary)
        {
            if (id != sp.UnknownId) tokenToId[piece] = id + Offset;
        }
        int mask = pieces + Offset;
        foreach (var (token, id) in new[] { (SpecialTokens.Bos, Bos), (SpecialTokens.Pad, Pad), (SpecialTokens.Eos, Eos), (SpecialTokens.Unk, Unk), (SpecialTokens.Mask, mask) })
            tokenToId[token] = id;
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [SentencePieceBpeFile] = model,
            [ConfigFile] = WriteConfig(TokenizerKind.FairseqSentencePiece, w => w.WriteNumber("fairseq_offset", Offset)),
        };
        return new SubwordTokenizer(TokenizerKind.FairseqSentencePiece, new SentencePieceEncoder(sp, Offset, Unk), mask + 1, tokenToId,
            (Bos, Pad, Eos, Unk, mask), files, lossless: false);
    }
}

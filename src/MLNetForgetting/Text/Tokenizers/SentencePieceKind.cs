using Microsoft.ML.Tokenizers;
using static MLNetForgetting.Text.TokenizerFiles;

namespace MLNetForgetting.Text;

/// <summary>Kind "sentencepiece": a SentencePiece model with its own ids; roles it lacks are appended.</summary>
internal static class SentencePieceKind
{
    public static SubwordTokenizer Load(IReadOnlyDictionary<string, byte[]> files) =>
        Create(new MemoryStream(Require(files, SentencePieceFile), writable: false));

    public static SubwordTokenizer Create(Stream model)
    {
        ArgumentNullException.ThrowIfNull(model);
        byte[] bytes = ReadAll(model);
        SentencePieceTokenizer tokenizer = Open(bytes, "The stream");
        var tokenToId = new Dictionary<string, int>(tokenizer.Vocabulary, StringComparer.Ordinal);
        int baseSize = tokenizer.Vocabulary.Values.DefaultIfEmpty(-1).Max() + 1;
        // Microsoft.ML.Tokenizers reports bos/eos id 1 when the model has none (id <= 0), so a role only
        // counts if the piece at that id really is the role's token.
        int? Known(int id, string token) => tokenToId.TryGetValue(token, out int actual) && actual == id ? id : null;
        int? Lookup(string token) => tokenToId.TryGetValue(token, out int id) ? id : null;
        var specials = SubwordTokenizer.AppendMissingSpecials(baseSize, tokenToId,
            Known(tokenizer.BeginningOfSentenceId, tokenizer.BeginningOfSentenceToken), Lookup(SpecialTokens.Pad),
            Known(tokenizer.EndOfSentenceId, tokenizer.EndOfSentenceToken), Known(tokenizer.UnknownId, tokenizer.UnknownToken),
            Lookup(SpecialTokens.Mask), out int vocabSize);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [SentencePieceFile] = bytes,
            [ConfigFile] = WriteConfig(TokenizerKind.SentencePiece, _ => { }),
        };
        return new SubwordTokenizer(TokenizerKind.SentencePiece, new SentencePieceEncoder(tokenizer), vocabSize, tokenToId, specials, files, lossless: false);
    }

    /// <summary>Loads a model without adding &lt;s&gt; / &lt;/s&gt; (the layouts of <see cref="SubwordTokenizer"/> add them).</summary>
    public static SentencePieceTokenizer Open(byte[] bytes, string what)
    {
        try
        {
            return SentencePieceTokenizer.Create(new MemoryStream(bytes, writable: false), false, false, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{what} is not a SentencePiece model Microsoft.ML.Tokenizers can load.", e);
        }
    }
}

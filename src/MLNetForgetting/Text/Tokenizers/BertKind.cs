using System.Text;
using Microsoft.ML.Tokenizers;
using static MLNetForgetting.Text.TokenizerFiles;

namespace MLNetForgetting.Text;

/// <summary>Kind "bert": a WordPiece vocab.txt with lower-casing and accent stripping settings.</summary>
internal static class BertKind
{
    public static SubwordTokenizer Load(TokenizerConfig config, IReadOnlyDictionary<string, byte[]> files)
    {
        bool lowerCase = config.Bool("lower_case") ?? true;
        // Written since accent stripping became a setting; files from before it were encoded without it.
        bool stripAccents = config.Bool("strip_accents") ?? false;
        return Create(new MemoryStream(Require(files, BertVocabFile), writable: false), lowerCase, stripAccents);
    }

    public static SubwordTokenizer Create(Stream vocabTxt, bool lowerCase, bool? stripAccents)
    {
        ArgumentNullException.ThrowIfNull(vocabTxt);
        byte[] bytes = ReadAll(vocabTxt);

        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        int lines = 0;
        using (var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8))
        {
            for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            {
                tokenToId.TryAdd(line, lines++);
            }
        }
        foreach (string required in new[] { "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]" })
        {
            if (!tokenToId.ContainsKey(required)) throw new InvalidDataException($"BERT vocab.txt lacks {required}.");
        }
        bool strip = stripAccents ?? lowerCase;
        // Microsoft.ML.Tokenizers does WordPiece on whitespace-separated words; BERT's basic tokenization
        // (lower-casing and accent stripping included) is ours, because its own drops symbols such as '$'.
        BertTokenizer tokenizer = BertTokenizer.Create(new MemoryStream(bytes, writable: false), new BertOptions
        {
            LowerCaseBeforeTokenization = false, RemoveNonSpacingMarks = false, SplitOnSpecialTokens = false, ApplyBasicTokenization = false,
        });
        var specials = (tokenizer.ClassificationTokenId, tokenizer.PaddingTokenId, tokenizer.SeparatorTokenId, tokenizer.UnknownTokenId, tokenizer.MaskingTokenId);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [BertVocabFile] = bytes,
            [ConfigFile] = WriteConfig(TokenizerKind.Bert, w =>
            {
                w.WriteBoolean("lower_case", lowerCase);
                w.WriteBoolean("strip_accents", strip);
                // Hugging Face's keys too, so the exported directory's tokenizer loads there as well.
                w.WriteString("tokenizer_class", "BertTokenizer");
                w.WriteBoolean("do_lower_case", lowerCase);
                w.WriteBoolean("tokenize_chinese_chars", true);
                foreach (var (key, token) in new[] { ("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("mask_token", "[MASK]") })
                    w.WriteString(key, token);
            }),
        };
        return new SubwordTokenizer(TokenizerKind.Bert, new BertEncoder(tokenizer, lowerCase, strip), lines, tokenToId, specials, files, lossless: false);
    }
}

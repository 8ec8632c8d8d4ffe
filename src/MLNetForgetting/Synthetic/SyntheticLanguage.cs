using System.Globalization;
using System.Text;

namespace MLNetForgetting.Synthetic;

internal enum LexemeKind { Article, Auxiliary, Negation, Noun, Category, FiniteVerb, BaseVerb, Adjective }

/// <summary>One lexicon entry: a function word, a noun/category/verb form by index, or an adjective (dimension, value).</summary>
internal readonly record struct Lexeme(LexemeKind Kind, int Index = 0, int Value = 0);

/// <summary>
/// One language of the testbed: a lexicon (surface form for every lexicon entry of the shared
/// grammar) plus word-order, segmentation and morphology rules. <see cref="Render"/> and
/// <see cref="Parse"/> are exact inverses, so text in any language maps back to its
/// <see cref="SemanticSentence"/>.
/// </summary>
internal sealed class SyntheticLanguage
{
    /// <summary>Code of the English-like base language.</summary>
    public const string EnglishCode = "en";

    private readonly SyntheticGrammar _grammar;
    private readonly Dictionary<Lexeme, string> _forms;
    private readonly Dictionary<string, Lexeme> _lexemes;
    private readonly int _longestForm;

    private SyntheticLanguage(SyntheticGrammar grammar, string code, DerivedLanguageSpec? spec, SyntheticScript script,
        WordOrder order, bool adjectivesAfterNoun, Segmentation segmentation, bool agglutinative,
        Dictionary<Lexeme, string> forms, IReadOnlySet<string> sharedWithEnglish, SyntheticLanguage? english)
    {
        _grammar = grammar;
        Code = code;
        Spec = spec;
        Script = script;
        WordOrder = order;
        AdjectivesAfterNoun = adjectivesAfterNoun;
        Segmentation = segmentation;
        Agglutinative = agglutinative;
        _forms = forms;
        _lexemes = forms.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
        if (_lexemes.Count != _forms.Count) throw new InvalidOperationException($"{code}: two lexicon entries share a surface form.");
        _longestForm = forms.Values.Max(f => f.Length);
        Vocabulary = AllLexemes(grammar).Select(l => forms[l]).ToArray();
        SharedWithEnglish = sharedWithEnglish;
        EnglishToSurface = english is null
            ? AllLexemes(grammar).ToDictionary(l => forms[l], l => forms[l], StringComparer.Ordinal)
            : AllLexemes(grammar).ToDictionary(l => english._forms[l], l => forms[l], StringComparer.Ordinal);
        Description = Describe();
    }

    /// <summary>Language code ("en", "xa", ...).</summary>
    public string Code { get; }

    /// <summary>One line: script, word order, adjective position, segmentation, morphology, overlap.</summary>
    public string Description { get; }

    /// <summary>The derivation settings; null for English.</summary>
    public DerivedLanguageSpec? Spec { get; }

    /// <summary>Writing system.</summary>
    public SyntheticScript Script { get; }

    /// <summary>Constituent order.</summary>
    public WordOrder WordOrder { get; }

    /// <summary>Adjectives follow the noun.</summary>
    public bool AdjectivesAfterNoun { get; }

    /// <summary>Word separation.</summary>
    public Segmentation Segmentation { get; }

    /// <summary>Article and auxiliary/negation are bound morphemes.</summary>
    public bool Agglutinative { get; }

    /// <summary>
    /// Surface form of every lexicon entry, in a fixed order (function words, nouns, categories,
    /// finite verbs, base verbs, adjectives). In an agglutinative or unsegmented language a written
    /// word may combine several entries.
    /// </summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Entries spelled exactly as in English (see <see cref="DerivedLanguageSpec.LexiconOverlap"/>); empty when disjoint.</summary>
    public IReadOnlySet<string> SharedWithEnglish { get; }

    /// <summary>The gold word-level lexicon: English form → this language's form (identity for English).</summary>
    public IReadOnlyDictionary<string, string> EnglishToSurface { get; }

    /// <summary>Writes a sentence in this language.</summary>
    public string Render(SemanticSentence sentence)
    {
        _grammar.Validate(sentence);
        var words = Words(sentence);
        var sb = new StringBuilder();
        foreach (var word in words)
        {
            if (sb.Length > 0 && Segmentation == Segmentation.Spaces) sb.Append(' ');
            foreach (var lexeme in word) sb.Append(_forms[lexeme]);
        }
        return sb.ToString();
    }

    /// <summary>Reads a sentence written by <see cref="Render"/>.</summary>
    /// <exception cref="FormatException">The text is not a sentence of this language in canonical form.</exception>
    public SemanticSentence Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lexemes = Decode(text);
        int pos = 0;
        NounPhrase? subject = null, obj = null;
        (int Verb, bool Negated)? vp = null;
        foreach (char part in WordOrder.ToString())
        {
            switch (part)
            {
                case 'S': subject = ParseNounPhrase(lexemes, ref pos, text); break;
                case 'O': obj = ParseNounPhrase(lexemes, ref pos, text); break;
                default: vp = ParseVerbPhrase(lexemes, ref pos, text); break;
            }
        }
        if (pos != lexemes.Count) throw Fail(text, $"unexpected '{_forms[lexemes[pos]]}' after the sentence");
        var sentence = new SemanticSentence(subject!.Value, vp!.Value.Verb, obj!.Value, vp.Value.Negated);
        // Word boundaries are not checked while decoding; comparing with the canonical rendering does it.
        if (Render(sentence) != text) throw Fail(text, "word boundaries or spacing differ from the canonical form");
        return sentence;
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public bool TryParse(string text, out SemanticSentence sentence)
    {
        try
        {
            sentence = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            sentence = default;
            return false;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Code}: {Description}";

    internal static SyntheticLanguage CreateEnglish(SyntheticGrammar g)
    {
        var forms = new Dictionary<Lexeme, string>
        {
            [new(LexemeKind.Article)] = "the",
            [new(LexemeKind.Auxiliary)] = "does",
            [new(LexemeKind.Negation)] = "not",
        };
        for (int i = 0; i < g.Nouns.Count; i++) forms[new(LexemeKind.Noun, i)] = g.Nouns[i];
        for (int i = 0; i < g.Categories.Count; i++) forms[new(LexemeKind.Category, i)] = g.Categories[i];
        for (int i = 0; i < g.Verbs.Count; i++)
        {
            forms[new(LexemeKind.FiniteVerb, i)] = g.FiniteVerbs[i];
            forms[new(LexemeKind.BaseVerb, i)] = g.Verbs[i];
        }
        for (int d = 0; d < g.Dimensions.Count; d++)
            for (int v = 0; v < g.Dimensions[d].Values.Count; v++) forms[new(LexemeKind.Adjective, d, v)] = g.Dimensions[d].Values[v];
        return new SyntheticLanguage(g, EnglishCode, null, SyntheticScript.Latin, WordOrder.SVO, false, Segmentation.Spaces, false,
            forms, new HashSet<string>(), null);
    }

    internal static SyntheticLanguage CreateDerived(SyntheticGrammar g, DerivedLanguageSpec spec, SyntheticLanguage english, int seed)
    {
        var (forms, shared) = PseudoLexicon.Generate(g, spec, english, seed);
        return new SyntheticLanguage(g, spec.Code, spec, spec.Script, spec.WordOrder, spec.AdjectivesAfterNoun, spec.Segmentation,
            spec.Agglutinative, forms, shared, english);
    }

    internal static IEnumerable<Lexeme> AllLexemes(SyntheticGrammar g)
    {
        yield return new(LexemeKind.Article);
        yield return new(LexemeKind.Auxiliary);
        yield return new(LexemeKind.Negation);
        for (int i = 0; i < g.Nouns.Count; i++) yield return new(LexemeKind.Noun, i);
        for (int i = 0; i < g.Categories.Count; i++) yield return new(LexemeKind.Category, i);
        for (int i = 0; i < g.Verbs.Count; i++) yield return new(LexemeKind.FiniteVerb, i);
        for (int i = 0; i < g.Verbs.Count; i++) yield return new(LexemeKind.BaseVerb, i);
        for (int d = 0; d < g.Dimensions.Count; d++)
            for (int v = 0; v < g.Dimensions[d].Values.Count; v++) yield return new(LexemeKind.Adjective, d, v);
    }

    internal string Form(Lexeme lexeme) => _forms[lexeme];

    // The written words of a sentence, each a list of lexicon entries.
    private List<List<Lexeme>> Words(SemanticSentence s)
    {
        var words = new List<List<Lexeme>>();
        foreach (char part in WordOrder.ToString())
        {
            switch (part)
            {
                case 'S': AddNounPhrase(words, s.Subject); break;
                case 'O': AddNounPhrase(words, s.Object); break;
                default: AddVerbPhrase(words, s.Verb, s.Negated); break;
            }
        }
        return words;
    }

    private void AddNounPhrase(List<List<Lexeme>> words, NounPhrase np)
    {
        var head = new Lexeme(np.Head.IsCategory ? LexemeKind.Category : LexemeKind.Noun, np.Head.Index);
        var adjectives = np.Attributes.SpecifiedDimensions
            .Select(d => new List<Lexeme> { new(LexemeKind.Adjective, d, np.Attributes[d]!.Value) }).ToList();
        var article = new Lexeme(LexemeKind.Article);
        if (!Agglutinative) words.Add(new List<Lexeme> { article });
        if (!AdjectivesAfterNoun) words.AddRange(adjectives);
        words.Add(Agglutinative ? new List<Lexeme> { head, article } : new List<Lexeme> { head });
        if (AdjectivesAfterNoun) words.AddRange(adjectives);
    }

    private void AddVerbPhrase(List<List<Lexeme>> words, int verb, bool negated)
    {
        if (!negated)
        {
            words.Add(new List<Lexeme> { new(LexemeKind.FiniteVerb, verb) });
            return;
        }
        var parts = new[] { new Lexeme(LexemeKind.Auxiliary), new Lexeme(LexemeKind.Negation), new Lexeme(LexemeKind.BaseVerb, verb) };
        if (Agglutinative) words.Add(parts.ToList());
        else words.AddRange(parts.Select(p => new List<Lexeme> { p }));
    }

    private List<Lexeme> Decode(string text)
    {
        if (text.Length == 0) throw Fail(text, "empty text");
        string[] chunks = Segmentation == Segmentation.Spaces ? text.Split(' ') : new[] { text };
        var result = new List<Lexeme>();
        foreach (string chunk in chunks)
        {
            if (chunk.Length == 0) throw Fail(text, "empty word (double or edge space)");
            if (_lexemes.TryGetValue(chunk, out var whole))
            {
                result.Add(whole);
                continue;
            }
            // Derived lexicons are prefix-free, so at each position at most one entry matches.
            int pos = 0;
            while (pos < chunk.Length)
            {
                bool found = false;
                for (int len = 1; len <= Math.Min(_longestForm, chunk.Length - pos); len++)
                {
                    if (_lexemes.TryGetValue(chunk.Substring(pos, len), out var lexeme))
                    {
                        result.Add(lexeme);
                        pos += len;
                        found = true;
                        break;
                    }
                }
                if (!found) throw Fail(text, $"no lexicon entry at '{chunk[pos..]}'");
            }
        }
        return result;
    }

    private NounPhrase ParseNounPhrase(List<Lexeme> l, ref int pos, string text)
    {
        if (!Agglutinative) Expect(l, ref pos, LexemeKind.Article, text);
        var attributes = AttributeSet.Empty;
        if (!AdjectivesAfterNoun) attributes = ParseAdjectives(l, ref pos, text);
        if (pos >= l.Count || l[pos].Kind is not (LexemeKind.Noun or LexemeKind.Category)) throw Fail(text, "expected a noun");
        var head = new NounHead(l[pos].Index, l[pos].Kind == LexemeKind.Category);
        pos++;
        if (Agglutinative) Expect(l, ref pos, LexemeKind.Article, text);
        if (AdjectivesAfterNoun) attributes = ParseAdjectives(l, ref pos, text);
        return new NounPhrase(head, attributes);
    }

    private AttributeSet ParseAdjectives(List<Lexeme> l, ref int pos, string text)
    {
        var attributes = AttributeSet.Empty;
        int last = -1;
        while (pos < l.Count && l[pos].Kind == LexemeKind.Adjective)
        {
            // Canonical order (ascending dimension) also rules out two values of one dimension.
            if (l[pos].Index <= last) throw Fail(text, "adjectives out of canonical order");
            last = l[pos].Index;
            attributes = attributes.With(l[pos].Index, l[pos].Value);
            pos++;
        }
        return attributes;
    }

    private (int Verb, bool Negated) ParseVerbPhrase(List<Lexeme> l, ref int pos, string text)
    {
        if (pos < l.Count && l[pos].Kind == LexemeKind.FiniteVerb) return (l[pos++].Index, false);
        Expect(l, ref pos, LexemeKind.Auxiliary, text);
        Expect(l, ref pos, LexemeKind.Negation, text);
        if (pos >= l.Count || l[pos].Kind != LexemeKind.BaseVerb) throw Fail(text, "expected a verb");
        return (l[pos++].Index, true);
    }

    private void Expect(List<Lexeme> l, ref int pos, LexemeKind kind, string text)
    {
        if (pos >= l.Count || l[pos].Kind != kind) throw Fail(text, $"expected {kind.ToString().ToLowerInvariant()}");
        pos++;
    }

    private FormatException Fail(string text, string why) => new($"Not a {Code} sentence ({why}): \"{text}\"");

    private string Describe()
    {
        var parts = new List<string>
        {
            $"{Script} script",
            $"{WordOrder} order",
            AdjectivesAfterNoun ? "adjectives after the noun" : "adjectives before the noun",
            Segmentation == Segmentation.Spaces ? "words separated by spaces" : "no spaces between words",
            Agglutinative ? "article suffixed to the noun, auxiliary+negation prefixed to the verb" : "free function words",
        };
        if (Spec is not null)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{SharedWithEnglish.Count} of {Vocabulary.Count} lexicon entries spelled as in English"));
        return string.Join(", ", parts);
    }
}

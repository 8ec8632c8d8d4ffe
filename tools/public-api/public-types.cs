// Lists the public types of a built assembly, per namespace, with a total.
// Reads the ECMA-335 metadata with System.Reflection.Metadata, so nothing is loaded or run and the
// assembly's dependencies (TorchSharp, ML.NET) need not resolve. A nested type counts as public only
// when it and every type around it are public (what a user can name).
//
//   dotnet run tools/public-api/public-types.cs -- src/MLNetForgetting/bin/Release/net10.0/MLNetForgetting.dll
//   (add --summary for the counts per namespace only)
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

string? path = args.FirstOrDefault(a => !a.StartsWith("--"));
bool summary = args.Contains("--summary");
if (path is null || !File.Exists(path))
{
    Console.Error.WriteLine($"usage: public-types.cs -- PATH/TO/Assembly.dll [--summary]; '{path}' was not found (build first).");
    return 2;
}

using var pe = new PEReader(File.OpenRead(path));
MetadataReader md = pe.GetMetadataReader();
var rows = new List<(string Namespace, string Name, string Kind)>();
foreach (TypeDefinitionHandle h in md.TypeDefinitions)
{
    if (!IsVisible(h)) continue;
    TypeDefinition t = md.GetTypeDefinition(h);
    rows.Add((NamespaceOf(t), FullName(t), KindOf(t)));
}

foreach (var group in rows.GroupBy(r => r.Namespace).OrderBy(g => g.Key, StringComparer.Ordinal))
{
    Console.WriteLine($"{group.Key} ({group.Count()})");
    if (summary) continue;
    foreach (var r in group.OrderBy(r => r.Name, StringComparer.Ordinal))
        Console.WriteLine($"  {r.Kind,-9} {r.Name}");
}
Console.WriteLine($"total: {rows.Count} public types in {rows.Select(r => r.Namespace).Distinct().Count()} namespaces ({Path.GetFileName(path)})");
return 0;

bool IsVisible(TypeDefinitionHandle h)
{
    TypeDefinition t = md.GetTypeDefinition(h);
    TypeAttributes vis = t.Attributes & TypeAttributes.VisibilityMask;
    if (vis == TypeAttributes.Public) return true;
    // Nested public (and nested protected, which a user can reach by deriving) only inside a visible type.
    if (vis is TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem)
        return IsVisible(t.GetDeclaringType());
    return false;
}

string NamespaceOf(TypeDefinition t)
{
    while (t.GetDeclaringType() is { IsNil: false } outer) t = md.GetTypeDefinition(outer);
    return md.GetString(t.Namespace);
}

string FullName(TypeDefinition t)
{
    string name = md.GetString(t.Name);
    return t.GetDeclaringType() is { IsNil: false } outer ? FullName(md.GetTypeDefinition(outer)) + "." + name : name;
}

string KindOf(TypeDefinition t)
{
    if ((t.Attributes & TypeAttributes.Interface) != 0) return "interface";
    string baseName = t.BaseType.Kind == HandleKind.TypeReference
        ? md.GetString(md.GetTypeReference((TypeReferenceHandle)t.BaseType).Name) : "";
    return baseName switch
    {
        "Enum" => "enum",
        "ValueType" => "struct",
        "MulticastDelegate" => "delegate",
        _ => (t.Attributes & (TypeAttributes.Abstract | TypeAttributes.Sealed)) == (TypeAttributes.Abstract | TypeAttributes.Sealed) ? "static" : "class",
    };
}

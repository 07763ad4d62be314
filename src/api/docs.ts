/** A self-contained docs page: the OpenAPI document rendered as a list of operations. */

/** HTML that fetches `specUrl` and lists every operation with its summary and responses. */
export function docsPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tunnelplane API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .3em}h2{margin-top:2rem;border-bottom:1px solid #ddd}
.op{margin:.6rem 0}.m{display:inline-block;width:4.5rem;font-weight:600}</style></head>
<body><h1>tunnelplane API</h1><p>OpenAPI 3.1 document: <a href="${specUrl}"><code>${specUrl}</code></a>.
Errors are RFC 9457 <code>application/problem+json</code>. Authenticate with <code>Authorization: Bearer &lt;api key&gt;</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch(${JSON.stringify(specUrl)}).then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [path,item] of Object.entries(doc.paths))for(const [method,op] of Object.entries(item)){
    (byTag[(op.tags||["other"])[0]] ??= []).push({method,path,op});
  }
  const esc=s=>String(s).replace(/[&<>]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;"}[c]));
  document.getElementById("ops").innerHTML=Object.entries(byTag).map(([tag,ops])=>
    "<h2>"+esc(tag)+"</h2>"+ops.map(({method,path,op})=>
      '<div class="op"><span class="m">'+method.toUpperCase()+"</span><code>"+esc(path)+"</code> "+esc(op.summary||"")+
      " <small>("+Object.keys(op.responses).join(", ")+")</small></div>").join("")).join("");
});
</script></body></html>`;
}

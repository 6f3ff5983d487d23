/**
 * swagger-ui's files, imported as text (import attributes `with { type: 'text' }`): esbuild
 * inlines each as a string when it bundles the docs page's function (get-docs-page.ts).
 */
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const text: string;
  export default text;
}
declare module 'swagger-ui-dist/swagger-ui.css' {
  const text: string;
  export default text;
}

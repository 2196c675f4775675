// Starts Swagger UI on the page's OpenAPI document; kept out of the HTML so the page
// needs no inline script.
const root = document.getElementById("swagger-ui");
// validatorUrl: null, or Swagger UI would send the document's URL to validator.swagger.io.
window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  validatorUrl: null,
});

// Submits the SAML POST binding form as soon as the page is ready; the
// visible button does the same when scripts are off.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('saml-post');
  if (form) {
    HTMLFormElement.prototype.submit.call(form);
  }
});

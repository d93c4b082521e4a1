import { OCI } from '@wharf/oci';
console.log('hello', OCI);
